import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { sql, type Kysely } from 'kysely';
import { pendingMigrations, type Database } from '@accountable/database';
import { DB } from '@accountable/platform';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(DB) private readonly db: Kysely<Database>,
  ) {}

  /** The process is up; says nothing about its dependencies (for liveness probes). */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Ready to serve: the database answers and every migration is applied. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.database(), () => this.migrations()]);
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
}
