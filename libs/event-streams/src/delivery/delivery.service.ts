import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { FEED_READER_APPLICATION_NAME, createKysely, createPool, type Database } from '@accountable/database';
import { EventStore, ProjectionRunner, type RecordedEvent } from '@accountable/event-store';
import { RUNTIME, runnerLogger, type Runtime } from '@accountable/platform';
import { AccountOwners } from './account-owners';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-policy';
import { SinkDeliveryProjection } from './sink-delivery.projection';
import { SinkStateStore, sinkProjectionName } from './sink-state.store';
import { SinkSenders } from './sink-senders';

/** The base of the URLs in delivered events (`() => PUBLIC_URL or the listening address`), bound by the app. */
export const EVENT_STREAMS_BASE_URL = Symbol('EVENT_STREAMS_BASE_URL');

/** How often the set of sinks to deliver to is read again: a new subscription starts within it. */
const REFRESH_MS = 1000;

export interface DeliveryListener {
  delivered?(sinkSid: string, events: readonly RecordedEvent[]): void;
  failed?(sinkSid: string, kind: 'retry' | 'drop', code: number): void;
}

/**
 * Event Streams delivery in this process: one projection per subscribed sink, run by a
 * projection runner of its own (leadership per sink across processes, checkpoints `sink:DG…`),
 * with its own small pool, so a sink waiting on a receiver never takes a connection the
 * account projections need. The set of sinks is read again every second: a sink subscribed
 * starts, a sink deleted, `validating` or `failed` stops (and resumes from its checkpoint once a
 * Validate makes it active again).
 */
@Injectable()
export class DeliveryService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EventStreams');
  private readonly db: Kysely<Database>;
  readonly runner: ProjectionRunner;
  readonly states: SinkStateStore;
  private readonly owners: AccountOwners;
  private readonly retry: RetryPolicy;
  private readonly abort = new AbortController();
  private readonly running = new Map<string, SinkDeliveryProjection>();
  private readonly listeners: DeliveryListener[] = [];
  private refreshing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(RUNTIME) runtime: Runtime,
    store: EventStore,
    private readonly senders: SinkSenders,
    @Inject(EVENT_STREAMS_BASE_URL) private readonly baseUrl: () => string,
  ) {
    this.db = createKysely(
      createPool(runtime.databaseUrl, {
        max: 4,
        statementTimeoutMs: runtime.config.DB_STATEMENT_TIMEOUT_MS,
        idleInTransactionTimeoutMs: runtime.config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
        applicationName: FEED_READER_APPLICATION_NAME.eventStreams,
        // Checkpoints and delivery counters are re-derivable: a commit lost in a crash delivers again.
        asynchronousCommit: true,
      }),
    );
    this.states = new SinkStateStore(this.db);
    this.owners = new AccountOwners(this.db);
    this.retry = { ...DEFAULT_RETRY_POLICY, windowMs: runtime.config.EVENT_STREAMS_RETRY_WINDOW_S * 1000 };
    this.runner = new ProjectionRunner(this.db, store, [], {
      connectionString: runtime.databaseUrl,
      pollIntervalMs: runtime.config.PROJECTION_POLL_MS,
      logger: runnerLogger(this.logger),
    });
  }

  /** Sinks this process runs (leads or waits to lead). */
  get sinks(): string[] {
    return [...this.running.keys()];
  }

  listen(listener: DeliveryListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.runner.start();
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    await this.refreshing;
    await this.runner.stop();
    await Promise.all([...this.running.values()].map((p) => p.close()));
    this.running.clear();
    await this.db.destroy();
  }

  /** Starts the sinks newly subscribed or active again, stops those deleted, unsubscribed or no longer active. */
  refresh(): Promise<void> {
    this.refreshing = this.refreshing.then(async () => {
      if (this.abort.signal.aborted) return;
      const runnable = await this.states.runnable();
      const wanted = new Set(runnable.map((s) => s.sid));
      for (const sid of this.running.keys()) if (!wanted.has(sid)) await this.stop(sid);
      for (const { sid, from } of runnable) {
        if (this.running.has(sid)) continue;
        await this.states.ensureCheckpoint(sid, from);
        const projection = new SinkDeliveryProjection(sid, {
          store: this.states,
          owners: this.owners,
          transport: (sink) => this.senders.open(sink),
          baseUrl: this.baseUrl,
          retry: this.retry,
          signal: this.abort.signal,
          stopped: () => void this.refresh(),
          delivered: (s, events) => this.listeners.forEach((l) => l.delivered?.(s, events)),
          failed: (s, kind, code) => this.listeners.forEach((l) => l.failed?.(s, kind, code)),
        });
        this.running.set(sid, projection);
        this.runner.add(projection);
      }
    });
    this.refreshing = this.refreshing.catch((error) => this.logger.warn(`reading the sinks failed: ${(error as Error).message}`));
    return this.refreshing;
  }

  private async stop(sid: string): Promise<void> {
    const projection = this.running.get(sid);
    if (!projection) return;
    this.running.delete(sid);
    await this.runner.remove(projection.name);
    await projection.close();
    if (!(await this.states.load(sid))) await this.states.forget(sid);
    this.logger.log(`stopped delivering to ${sid} (${sinkProjectionName(sid)})`);
  }

  private schedule(ms: number): void {
    if (this.abort.signal.aborted) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule(REFRESH_MS));
    }, ms);
    this.timer.unref();
  }
}
