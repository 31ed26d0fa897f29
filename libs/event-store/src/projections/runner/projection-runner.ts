import pg from 'pg';
import type { Kysely } from 'kysely';
import { ADVISORY_LOCK_CLASS, FEED_READER_APPLICATION_NAME, type Database } from '@accountable/database';
import type { EventStore } from '../../event-store';
import type { FeedPosition, RecordedEvent } from '../../event.types';
import { FEED_CHANNEL } from '../../feed-signal';
import type { Projection } from '../projection';
import { CheckpointStore } from './checkpoint-store';
import { SharedFeed } from './shared-feed';
import { ParkedEventStore, ProjectionHaltedError, applyEachAlone, describeFailure, isTransientFailure, type FailedEvent } from './parked-events';

const LEADER_LOCK_CLASS = ADVISORY_LOCK_CLASS.projectionLeader;

export interface RunnerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ProjectionRunnerOptions {
  /** Connection string for the dedicated LISTEN / leadership connection. */
  connectionString: string;
  batchSize?: number;
  /** Fallback when a wake-up is missed (or the fence held events back). */
  pollIntervalMs?: number;
  /** How often a follower tries to take over leadership. */
  leaderRetryMs?: number;
  logger?: RunnerLogger;
}

export class CheckpointConflictError extends Error {
  override readonly name = 'CheckpointConflictError';
  constructor(readonly projection: string) {
    super(`checkpoint of projection ${projection} moved under this runner`);
  }
}

/**
 * How soon to look again while committed events wait behind an open transaction: such a
 * transaction usually ends within milliseconds, and its end wakes nobody (it may not even be an
 * appender: a projector's own batch transaction holds the fence too).
 */
const FENCE_RETRY_MS = 10;

/** How soon a halted `neverPark` projection tries again: its cause needs a person, and each try logs an error. */
const HALTED_RETRY_MS = 5000;

/** The checkpoint this runner remembered had moved (e.g. a rebuild's switch): read it again, no warning. */
class StaleCheckpointError extends CheckpointConflictError {}

const silent: RunnerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * Feeds projections from the global feed, each batch and its checkpoint in one transaction.
 *
 * Exactly-once comes from the checkpoint compare-and-set, not from leadership: leadership (a
 * session advisory lock per projection) only keeps other processes from wasting work. If a
 * leader's connection dies its lock is released by the server and a follower takes over.
 *
 * One event that cannot be applied does not stop a projection: a batch failing because of an
 * event (not of the database: isTransientFailure) is applied again event by event and the
 * events that fail alone are parked (ParkedEventStore) with the checkpoint's move past them.
 * A transient failure is retried, as it always was. A `neverPark` projection is never parked
 * from: its batch fails whole (ProjectionHaltedError) and is tried again, until the cause is gone.
 */
export class ProjectionRunner {
  private readonly checkpoints: CheckpointStore;
  private readonly parked: ParkedEventStore;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly leaderRetryMs: number;
  private readonly logger: RunnerLogger;
  private client?: pg.Client;
  private connecting?: Promise<pg.Client | undefined>;
  private readonly leading = new Set<string>();
  private running = false;
  /** What runs: the projections given at construction, and those added since (add/remove). */
  private readonly active = new Map<string, Projection>();
  private readonly loops = new Map<string, Promise<void>>();
  private wakers = new Set<() => void>();
  private leaderQueries: Promise<unknown> = Promise.resolve();
  private unlisten?: () => void;
  /**
   * Where each projection's last batch left its checkpoint, so that a batch does not read it
   * again: the compare-and-set still checks it, and a miss (someone else moved it, e.g. a
   * rebuild's switch) drops the entry and the next batch reads the table.
   */
  private readonly positions = new Map<string, FeedPosition>();
  /** Read once for every projection of this runner (see SharedFeed). */
  private readonly feed: SharedFeed;
  /** The stamp of each projection's last read (SharedFeed): a retry for the fence needs a later one. */
  private readonly lastRead = new Map<string, number>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    readonly projections: readonly Projection[],
    private readonly options: ProjectionRunnerOptions,
  ) {
    this.checkpoints = new CheckpointStore(db);
    this.parked = new ParkedEventStore(db);
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.leaderRetryMs = options.leaderRetryMs ?? 1000;
    this.logger = options.logger ?? silent;
    this.feed = new SharedFeed(store, db, this.batchSize);
    for (const projection of projections) this.active.set(projection.name, projection);
  }

  /** Names of the projections this process currently leads. */
  get leaderOf(): string[] {
    return [...this.leading];
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // Commits made in this process wake its projectors directly; other processes' by NOTIFY.
    this.unlisten = this.store.signal.listen(() => this.wakeAll());
    for (const projection of this.active.values()) this.spawn(projection);
  }

  /**
   * Runs `projection` too, from now on, with the same leadership and checkpoint rules: for
   * projections that come and go while the process runs (an Event Streams sink's delivery).
   */
  add(projection: Projection): void {
    if (this.active.has(projection.name)) return;
    this.active.set(projection.name, projection);
    if (this.running) this.spawn(projection);
  }

  /**
   * Stops running `name` once its batch in flight is done (at a checkpoint), and gives up its
   * leadership so that another process may take it, as a stopped runner does.
   */
  async remove(name: string): Promise<void> {
    if (!this.active.delete(name)) return;
    this.wakeAll();
    await this.loops.get(name);
    this.loops.delete(name);
    this.positions.delete(name);
    this.lastRead.delete(name);
    if (!this.leading.delete(name)) return;
    const client = this.client;
    if (!client) return;
    const unlocked = (this.leaderQueries = this.leaderQueries.then(() =>
      client.query(`SELECT pg_advisory_unlock(${LEADER_LOCK_CLASS}, hashtext($1))`, [name]),
    ));
    this.leaderQueries = unlocked.catch(() => undefined);
    await this.leaderQueries;
  }

  private spawn(projection: Projection): void {
    this.loops.set(projection.name, this.loop(projection));
  }

  /** Stops after the batch in flight has committed (at a checkpoint) and releases leadership. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.unlisten?.();
    this.wakeAll();
    await Promise.all(this.loops.values());
    this.loops.clear();
    const client = this.client;
    this.client = undefined;
    this.leading.clear();
    this.positions.clear();
    await client?.end().catch(() => undefined);
  }

  /** Applies batches until the feed has nothing more for this projection. Returns events applied. */
  async catchUp(projection: Projection): Promise<number> {
    let total = 0;
    for (;;) {
      const applied = await this.processBatch(projection);
      total += applied;
      if (applied < this.batchSize) return total;
    }
  }

  /**
   * One batch: read after the checkpoint, advance the checkpoint by compare-and-set, apply.
   * The checkpoint moves first so that its row lock fences a concurrent runner before either
   * applies anything: the loser waits, finds the checkpoint moved and gets a
   * CheckpointConflictError, rather than colliding inside the projection's own tables (a
   * unique violation on a read-model key) or doing the batch's work for nothing.
   */
  async processBatch(projection: Projection, notBefore = this.feed.next()): Promise<number> {
    const remembered = this.positions.get(projection.name);
    const from = remembered ?? (await this.checkpoints.get(projection.name));
    this.positions.delete(projection.name); // until this batch has committed
    const { events, issued } = await this.feed.read(from, notBefore);
    this.lastRead.set(projection.name, issued);
    if (events.length === 0) {
      this.positions.set(projection.name, from);
      return 0;
    }
    const last = events[events.length - 1];
    const to: FeedPosition = { transactionId: last.transactionId, globalPosition: last.globalPosition };
    const conflict = () => (remembered ? new StaleCheckpointError(projection.name) : new CheckpointConflictError(projection.name));
    try {
      // An event the store could not read (an upcaster refused it) is parked without being applied.
      const unreadable = events.find((event) => event.unreadable);
      if (unreadable) throw unreadable.unreadable;
      if (projection.ownTransactions) {
        await projection.apply(this.db, events);
        if (!(await this.checkpoints.advance(this.db, projection.name, from, to))) throw conflict();
      } else {
        await this.db.transaction().execute(async (trx) => {
          if (!(await this.checkpoints.advance(trx, projection.name, from, to))) throw conflict();
          await projection.apply(trx, events);
        });
      }
    } catch (error) {
      if (error instanceof CheckpointConflictError || isTransientFailure(error)) throw error;
      if (projection.neverPark) throw new ProjectionHaltedError(projection.name, events, error);
      await this.parkingBatch(projection, from, to, events, conflict);
    }
    this.positions.set(projection.name, to);
    return events.length;
  }

  /**
   * The batch failed because of an event in it (see isTransientFailure): applied again one event
   * at a time, each under a savepoint, in one transaction with the checkpoint's move and the
   * parked rows of the events that fail alone too. The others are applied exactly once: the
   * failed attempt rolled back whole (or, for `ownTransactions`, its effects are idempotent).
   */
  private async parkingBatch(projection: Projection, from: FeedPosition, to: FeedPosition, events: readonly RecordedEvent[], conflict: () => Error): Promise<void> {
    let failed: FailedEvent[];
    if (projection.ownTransactions) {
      failed = await applyEachAlone(this.db, projection, events, false);
      await this.db.transaction().execute(async (trx) => {
        if (!(await this.checkpoints.advance(trx, projection.name, from, to))) throw conflict();
        for (const failure of failed) await this.parked.park(trx, projection.name, failure);
      });
    } else {
      failed = await this.db.transaction().execute(async (trx) => {
        if (!(await this.checkpoints.advance(trx, projection.name, from, to))) throw conflict();
        const failures = await applyEachAlone(trx, projection, events, true);
        for (const failure of failures) await this.parked.park(trx, projection.name, failure);
        return failures;
      });
    }
    for (const { event, error } of failed) {
      const { code, message } = describeFailure(error);
      this.logger.error(
        `projection ${projection.name} parked event ${event.eventId} (${event.type}) at position ${event.transactionId}/${event.globalPosition} [${code ?? 'error'}: ${message}]; it goes on with the next (cli projections parked / retry)`,
      );
    }
  }

  /** Empties a projection and sets its checkpoint back to the start of the feed. */
  async reset(projection: Projection): Promise<void> {
    this.positions.delete(projection.name);
    await this.db.transaction().execute(async (trx) => {
      await projection.reset(trx);
      await this.checkpoints.reset(trx, projection.name);
      await this.parked.replace(trx, projection.name, []);
    });
  }

  private async loop(projection: Projection): Promise<void> {
    let fenceWait = FENCE_RETRY_MS;
    // Any read after the latest commit signal will do (SharedFeed), unless a retry for the fence needs a later one.
    let notBefore = 0;
    while (this.running && this.active.get(projection.name) === projection) {
      try {
        if (!(await this.ensureLeader(projection.name))) {
          await this.sleep(this.leaderRetryMs);
          continue;
        }
        const applied = await this.processBatch(projection, notBefore);
        notBefore = 0;
        if (applied > 0) {
          fenceWait = FENCE_RETRY_MS;
          // Not woken by commits (they are what it waits to gather); stop() waits it out.
          if (projection.paceMs && applied < this.batchSize) await new Promise((resolve) => setTimeout(resolve, projection.paceMs));
        } else if (this.feed.signalledSince(this.lastRead.get(projection.name) ?? 0)) {
          // A commit was signalled while this batch ran: its wake-up found nobody asleep.
          fenceWait = FENCE_RETRY_MS;
        } else if (await this.heldBack(projection)) {
          if (projection.paceMs) {
            // Under load the fence is nearly always held and every commit would wake it for
            // another empty read: a paced projection looks again only after its pace.
            await new Promise((resolve) => setTimeout(resolve, projection.paceMs));
          } else {
            // Doubling, so that a transaction left open for long (in any database of the
            // server: the fence is cluster-wide) does not turn into a busy loop.
            await this.sleep(fenceWait);
            fenceWait = Math.min(fenceWait * 2, this.pollIntervalMs);
          }
          // A read issued after the one that came back empty: the fence moves without a signal.
          notBefore = (this.lastRead.get(projection.name) ?? 0) + 1;
        } else {
          fenceWait = FENCE_RETRY_MS;
          // Checked again: a signal during the question above would also find nobody asleep.
          if (!this.feed.signalledSince(this.lastRead.get(projection.name) ?? 0)) {
            // The poll is for what no signal announces (a commit in a caller's own transaction,
            // another process's without a NOTIFY heard): after it, only a read issued since the
            // sleep began will do, never the window read before it. Projections that slept
            // together may still share that one read.
            const polled = this.feed.next();
            await this.sleep(this.pollIntervalMs);
            notBefore = polled;
          }
        }
      } catch (error) {
        if (error instanceof StaleCheckpointError) continue; // read it afresh
        if (error instanceof ProjectionHaltedError) {
          this.logger.error(error.message);
          await this.sleep(HALTED_RETRY_MS);
          continue;
        }
        if (error instanceof CheckpointConflictError) {
          this.logger.warn(error.message);
          continue;
        }
        this.logger.error(`projection ${projection.name} failed; retrying`, error);
        await this.sleep(Math.min(this.pollIntervalMs, 1000));
      }
    }
  }

  private async heldBack(projection: Projection): Promise<boolean> {
    const position = this.positions.get(projection.name);
    return position !== undefined && (await this.feed.heldBack(position));
  }

  private async ensureLeader(name: string): Promise<boolean> {
    const client = await this.listenClient();
    if (!client) return false;
    if (this.leading.has(name)) return true;
    // The two-key form keeps leadership locks out of the one-key space the appenders' stream
    // locks use. Queries on the shared connection are chained: pg wants one at a time.
    const locked = (this.leaderQueries = this.leaderQueries.then(
      async () =>
        (
          await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${LEADER_LOCK_CLASS}, hashtext($1)) AS locked`, [name])
        ).rows[0]?.locked === true,
    ));
    this.leaderQueries = locked.catch(() => false);
    if (await locked) {
      this.leading.add(name);
      this.logger.info(`leading projection ${name}`);
      return true;
    }
    return false;
  }

  private async listenClient(): Promise<pg.Client | undefined> {
    if (this.client) return this.client;
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.options.connectionString, application_name: FEED_READER_APPLICATION_NAME.projector });
      const lost = () => {
        if (this.client === client) {
          this.client = undefined;
          if (this.leading.size) this.logger.warn(`lost the projector connection; leadership of ${[...this.leading].join(', ')} released`);
          this.leading.clear();
          this.positions.clear();
        }
        client.end().catch(() => undefined);
        this.wakeAll();
      };
      client.on('error', lost);
      client.on('end', lost);
      // This process's own notifications were heard directly already.
      client.on('notification', (message) => {
        if (message.payload !== this.store.signal.origin) this.wakeAll();
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${FEED_CHANNEL}`);
        this.client = client;
        return client;
      } catch (error) {
        this.logger.warn(`projector connection failed: ${(error as Error).message}`);
        await client.end().catch(() => undefined);
        return undefined;
      }
    })().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  private wakeAll(): void {
    this.feed.signal();
    for (const wake of [...this.wakers]) wake();
  }
}
