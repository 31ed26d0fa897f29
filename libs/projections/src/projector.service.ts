import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import { DB, RUNTIME, type Runtime } from '@accountable/platform';
import type { Projection } from './runner/projection';
import { ProjectionRunner } from './runner/projection-runner';

/** The projections this process runs (bound by the app). */
export const PROJECTIONS = Symbol('PROJECTIONS');

/** Runs every projection in the background from start-up, and stops them at a checkpoint on shutdown. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  readonly runner: ProjectionRunner;

  constructor(
    @Inject(DB) db: Kysely<Database>,
    @Inject(RUNTIME) runtime: Runtime,
    store: EventStore,
    @Inject(PROJECTIONS) projections: Projection[],
  ) {
    this.runner = new ProjectionRunner(db, store, projections, {
      connectionString: runtime.databaseUrl,
      pollIntervalMs: runtime.config.PROJECTION_POLL_MS,
      logger: {
        info: (m) => this.logger.log(m),
        warn: (m) => this.logger.warn(m),
        error: (m, e) => this.logger.error(`${m}: ${(e as Error)?.message ?? e}`),
      },
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
