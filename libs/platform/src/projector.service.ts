import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { FEED_READER_APPLICATION_NAME, createKysely, createPool, type Database } from '@accountable/database';
import { EventStore, ProjectionRunner, type Projection, type RunnerLogger } from '@accountable/event-store';
import type { Runtime } from './runtime';
import { RUNTIME } from './tokens';

/** A runner's log lines through Nest's logger (the projector's, Event Streams delivery's). */
export function runnerLogger(logger: Logger): RunnerLogger {
  return {
    info: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m, e) => logger.error(`${m}: ${(e as Error)?.message ?? e}`),
  };
}

/** The projections this process runs (bound by the app). */
export const PROJECTIONS = Symbol('PROJECTIONS');

/** Runs every projection in the background from start-up, and stops them at a checkpoint on shutdown. */
@Injectable()
export class ProjectorService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projector');
  readonly runner: ProjectionRunner;
  private readonly db: Kysely<Database>;

  constructor(
    @Inject(RUNTIME) runtime: Runtime,
    store: EventStore,
    @Inject(PROJECTIONS) projections: Projection[],
  ) {
    // Connections of their own, one per projection and one spare: sharing the request pool, a
    // batch queued behind every waiting request under load, and the projections fell behind by
    // as much as the requests waited (their lag followed the create latency). Their commits do
    // not wait for the WAL flush: everything they write is derived from the durable log, and a
    // batch lost in a crash is lost with its checkpoint, so it is applied again. The owner
    // cascade's own appends go through the repository's pool and stay durable.
    this.db = createKysely(
      createPool(runtime.databaseUrl, {
        max: projections.length + 1,
        statementTimeoutMs: runtime.config.DB_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: runtime.config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        applicationName: FEED_READER_APPLICATION_NAME.projector,
        asynchronousCommit: true,
      }),
    );
    this.runner = new ProjectionRunner(this.db, store, projections, {
      connectionString: runtime.databaseUrl,
      pollIntervalMs: runtime.config.PROJECTION_POLL_MS,
      logger: runnerLogger(this.logger),
    });
  }

  onApplicationBootstrap(): void {
    this.runner.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    await this.db.destroy();
  }
}
