import { Controller, Get, Inject } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql, type Kysely } from 'kysely';
import { pendingMigrations, type Database } from '@accountable/database';
import { EventStore, ProjectionAdmin, type Projection } from '@accountable/event-store';
import { DB, RUNTIME, type Runtime, PROJECTIONS } from '@accountable/platform';

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  private readonly admin: ProjectionAdmin;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    store: EventStore,
  ) {
    this.admin = new ProjectionAdmin(db, store);
  }

  /** The process is up; says nothing about its dependencies (for liveness probes). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready to serve: the database answers, every migration is applied, projections are not far behind (parked events are reported, not failed on). */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database(), () => this.migrations(), () => this.projectionLag()]);
  }

  private async database() {
    const indicator = this.indicators.check('database');
    try {
      await sql`SELECT 1`.execute(this.db);
      return indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async migrations() {
    const indicator = this.indicators.check('migrations');
    try {
      const pending = await pendingMigrations(this.db);
      return pending.length ? indicator.down({ pending }) : indicator.up();
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }

  private async projectionLag() {
    const indicator = this.indicators.check('projections');
    const max = this.runtime.config.READY_MAX_PROJECTION_LAG_S;
    try {
      const statuses = await this.admin.status(this.projections.map((p) => p.name));
      // Parked events are shown, not failed on: the projection has gone past them and is serving;
      // they wait for an operator (`cli projections parked`, `retry`).
      const lag = Object.fromEntries(
        statuses.map((s) => [s.name, { lag_events: s.lagEvents, lag_seconds: Number(s.lagSeconds.toFixed(3)), parked_events: s.parked }]),
      );
      return statuses.some((s) => s.lagSeconds > max) ? indicator.down({ max_lag_seconds: max, ...lag }) : indicator.up(lag);
    } catch (error) {
      return indicator.down({ message: (error as Error).message });
    }
  }
}
