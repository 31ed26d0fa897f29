import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { EventStore } from '../../event-store';
import { FEED_START, type FeedPosition, type RecordedEvent } from '../../event.types';
import type { Projection } from '../projection';
import { CheckpointStore } from '../runner/checkpoint-store';
import {
  ParkedEventStore,
  ProjectionHaltedError,
  applyEachAlone,
  describeFailure,
  isTransientFailure,
  type FailedEvent,
  type ParkedEvent,
} from '../runner/parked-events';
import { releaseRebuildLock, takeRebuildLock } from './rebuild-lock';
import {
  LIVE_SCHEMA,
  ShadowReplacedError,
  createShadow,
  createShadowSchemas,
  dropLeftovers,
  dropShadowSchemas,
  swapIn,
  type DeferredIndex,
  type ShadowSchemas,
} from './shadow-table';

export interface ProjectionStatus {
  name: string;
  checkpoint: FeedPosition;
  /** Events stored beyond the checkpoint. */
  lagEvents: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  lagSeconds: number;
  updatedAt: Date | null;
  /** Events it has set aside (cannot apply) behind its checkpoint: `projections parked`. */
  parked: number;
}

export interface RebuildProgress {
  applied: number;
  total: number;
}

/** An event a rebuild could not apply: parked (in place of the live projection's parked events) at the switch. */
export interface RebuildParked {
  position: FeedPosition;
  eventId: string;
  eventType: string;
  errorCode: string | null;
  error: string;
}

export interface RebuildResult extends RebuildProgress {
  parked: RebuildParked[];
}

/** What a retry of one parked event did. */
export interface RetryOutcome {
  position: FeedPosition;
  eventId: string;
  eventType: string;
  /** `applied`: applied once and no longer parked; `failed`: still parked, with `error`; `gone`: retried meanwhile by someone else. */
  outcome: 'applied' | 'failed' | 'gone';
  errorCode?: string | null;
  error?: string;
}

/** A projection and the tables it owns (rebuilt side by side in the `rebuild` schema). */
export interface RebuildableProjection extends Projection {
  readonly tables: readonly string[];
  /**
   * Indexes of those tables that `apply` itself reads through. A rebuild creates them before it
   * loads; the other plain indexes it builds after the load, which costs a fraction.
   */
  readonly applyIndexes?: readonly string[];
  /**
   * Loads the feed range (after, until] into the tables in `schema` by SQL alone, as `apply`
   * would have, and returns the number of feed events in it; or null, changing nothing, when it
   * cannot say the same as `apply` for that range. A rebuild's bulk load then skips this process.
   */
  loadRange?(db: Kysely<Database>, schema: string, after: FeedPosition, until: FeedPosition): Promise<number | null>;
}

/**
 * How long one attempt at the switch waits for its locks. Readers and writers queue behind a
 * waiting ACCESS EXCLUSIVE request, so this bounds how long a long-running query can stall them.
 */
const SWITCH_LOCK_TIMEOUT = '500ms';
/** Attempts at the switch before giving up; each follows a catch-up without locks. */
const SWITCH_ATTEMPTS = 20;

/** lock_not_available (lock_timeout) or deadlock_detected: the switch is tried again. */
const isLockWait = (error: unknown) => ['55P03', '40P01'].includes((error as { code?: string }).code ?? '');

/**
 * What one rebuild made: its schemas, the oid of each shadow table, the feed position it has
 * loaded them to, and the events up to there it could not apply.
 */
interface Shadow {
  readonly schemas: ShadowSchemas;
  readonly oids: Map<string, number>;
  loadedTo: FeedPosition;
  readonly parked: FailedEvent[];
}

/** Building an index after the load failed because of a row in it (not of the database). */
class DeferredIndexFailedError extends Error {
  override readonly name = 'DeferredIndexFailedError';
  constructor(readonly failure: unknown) {
    super(`an index of the rebuilt table could not be built: ${(failure as Error)?.message ?? failure}`);
  }
}

/** Feed order: (transaction id, global position); transaction ids are xid8, compared as integers. */
function before(a: FeedPosition, b: FeedPosition): boolean {
  const ta = BigInt(a.transactionId);
  const tb = BigInt(b.transactionId);
  return ta < tb || (ta === tb && a.globalPosition < b.globalPosition);
}

export class ProjectionAdmin {
  private readonly checkpoints: CheckpointStore;
  readonly parked: ParkedEventStore;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EventStore,
  ) {
    this.checkpoints = new CheckpointStore(db);
    this.parked = new ParkedEventStore(db);
  }

  async status(names: readonly string[]): Promise<ProjectionStatus[]> {
    const result: ProjectionStatus[] = [];
    for (const name of names) {
      const checkpoint = await this.checkpoints.get(name);
      const { rows } = await sql<{ lag_events: number; oldest: Date | null; updated_at: Date | null; parked: number }>`
        SELECT (SELECT count(*) FROM events e
                 WHERE (e.transaction_id, e.global_position) > (${checkpoint.transactionId}::xid8, ${checkpoint.globalPosition}::bigint))::bigint AS lag_events,
               (SELECT min(e.recorded_at) FROM events e
                 WHERE (e.transaction_id, e.global_position) > (${checkpoint.transactionId}::xid8, ${checkpoint.globalPosition}::bigint)) AS oldest,
               (SELECT updated_at FROM projection_checkpoints WHERE name = ${name}) AS updated_at,
               (SELECT count(*) FROM projection_parked_events WHERE projection = ${name})::bigint AS parked`.execute(this.db);
      const row = rows[0];
      result.push({
        name,
        checkpoint,
        lagEvents: Number(row.lag_events),
        lagSeconds: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
        updatedAt: row.updated_at,
        parked: Number(row.parked),
      });
    }
    return result;
  }

  /** Parked events in feed order: of one projection, or of all. */
  async listParked(projection?: string): Promise<ParkedEvent[]> {
    return this.parked.list(projection);
  }

  /**
   * Applies the projection's parked events again (all of them in feed order, or the one at
   * `globalPosition`), each exactly once: the event's effects and the deletion of its parked row
   * commit together, under the parked row's lock, so two retries at once apply it once. One that
   * still fails stays parked with the new error. The transaction takes the checkpoint row first,
   * as the runner's batches and a rebuild's switch do, so it waits for them rather than
   * deadlocking with them. A transient failure is thrown and changes nothing.
   */
  async retryParked(projection: Projection, globalPosition?: number): Promise<RetryOutcome[]> {
    const parked = (await this.parked.list(projection.name)).filter((p) => globalPosition === undefined || p.position.globalPosition === globalPosition);
    const outcomes: RetryOutcome[] = [];
    for (const p of parked) {
      const base = { position: p.position, eventId: p.eventId, eventType: p.eventType };
      const attempt = async (executor: Kysely<Database>) => {
        const [event] = await this.store.readEvents([p.eventId], executor);
        if (!event) throw new Error(`event ${p.eventId} is not in the log`);
        await projection.apply(executor, [event]);
      };
      const failed = (error: unknown): RetryOutcome => {
        const { code, message } = describeFailure(error);
        return { ...base, outcome: 'failed', errorCode: code, error: message };
      };
      if (projection.ownTransactions) {
        // Its effects are idempotent appends of its own (Projection.ownTransactions): a second
        // retry at once re-applies harmlessly.
        if (!(await this.parked.list(projection.name)).some((q) => q.position.globalPosition === p.position.globalPosition)) {
          outcomes.push({ ...base, outcome: 'gone' });
          continue;
        }
        try {
          await attempt(this.db);
        } catch (error) {
          if (isTransientFailure(error)) throw error;
          await this.parked.failedAgain(this.db, projection.name, p.position.globalPosition, error);
          outcomes.push(failed(error));
          continue;
        }
        await this.parked.remove(this.db, projection.name, p.position.globalPosition);
        outcomes.push({ ...base, outcome: 'applied' });
        continue;
      }
      outcomes.push(
        await this.db.transaction().execute(async (trx): Promise<RetryOutcome> => {
          await trx.insertInto('projection_checkpoints').values({ name: projection.name }).onConflict((oc) => oc.column('name').doNothing()).execute();
          await trx.selectFrom('projection_checkpoints').select('name').where('name', '=', projection.name).forUpdate().execute();
          const row = await trx
            .selectFrom('projection_parked_events')
            .select('event_id')
            .where('projection', '=', projection.name)
            .where('global_position', '=', p.position.globalPosition)
            .forUpdate()
            .executeTakeFirst();
          if (!row) return { ...base, outcome: 'gone' };
          await sql`SAVEPOINT retry_parked`.execute(trx);
          try {
            await attempt(trx);
          } catch (error) {
            await sql`ROLLBACK TO SAVEPOINT retry_parked`.execute(trx);
            if (isTransientFailure(error)) throw error;
            await this.parked.failedAgain(trx, projection.name, p.position.globalPosition, error);
            return failed(error);
          }
          await this.parked.remove(trx, projection.name, p.position.globalPosition);
          return { ...base, outcome: 'applied' };
        }),
      );
    }
    return outcomes;
  }

  /**
   * Blue-green rebuild. The new version of the projection's tables is built in a schema of this
   * rebuild's own from position zero, in batches (constant memory), while the live tables keep
   * serving: loaded with only the indexes the load needs, then the other indexes are built and
   * what arrived meanwhile is applied. The switch is one short transaction: lock the live tables,
   * apply what arrived since, move each live table aside and its rebuilt copy into its place (same
   * name, indexes, constraints, owner and privileges: `swapIn` refuses otherwise, and refuses a
   * table that is not the one this rebuild created) and move the checkpoint. Readers and writers
   * wait for that transaction, then see the new tables whole. The old tables are dropped after it.
   *
   * One rebuild per projection at a time (`takeRebuildLock`, across processes): a second one is
   * refused at once with RebuildInProgressError and changes nothing. The lock's session also runs
   * the switch, so a rebuild whose session was lost cannot switch after another one has started.
   *
   * The switch also applies committed events beyond the feed's fence (visible to this
   * snapshot): a command that committed after the fence moved must not lose its inline write.
   * Those events will come through the feed again later; every projection applies idempotently.
   *
   * Unlike copying rows, a swap is not MVCC-safe (like TRUNCATE): a REPEATABLE READ or
   * SERIALIZABLE transaction whose snapshot predates the switch and that reads the table only
   * after it finds the rebuilt table without the rows committed after its snapshot. The service
   * reads in READ COMMITTED, where each statement takes its snapshot after its locks.
   */
  async rebuild(projection: RebuildableProjection, batchSize = 5000, onProgress?: (p: RebuildProgress) => void): Promise<RebuildResult> {
    return this.db.connection().execute(async (session) => {
      await takeRebuildLock(session, projection.name);
      try {
        try {
          return await this.rebuildLocked(session, projection, batchSize, onProgress);
        } catch (error) {
          if (!(error instanceof DeferredIndexFailedError)) throw error;
          // A row the load wrote cannot go into an index built after it (over the B-tree
          // maximum, say): once more with every index in place from the start and no SQL load,
          // so that the event that wrote it fails where it is applied, and is parked.
          return await this.rebuildLocked(session, projection, batchSize, onProgress, true);
        }
      } finally {
        // A session that was lost has released its lock with it.
        await releaseRebuildLock(session, projection.name).catch(() => undefined);
      }
    });
  }

  private async rebuildLocked(
    session: Kysely<Database>,
    projection: RebuildableProjection,
    batchSize: number,
    onProgress?: (p: RebuildProgress) => void,
    indexesFirst = false,
  ): Promise<RebuildResult> {
    await dropLeftovers(session, projection.name, projection.tables);
    const shadow: Shadow = { schemas: await createShadowSchemas(session, projection.name), oids: new Map(), loadedTo: FEED_START, parked: [] };
    const total = Number((await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM events`.execute(this.db)).rows[0].n);
    let applied = 0;
    const progress = (events: number) => {
      applied += events;
      onProgress?.({ applied, total: Math.max(total, applied) });
    };
    try {
      // A load in SQL reads no index of its own tables (it joins) and delivers each event once
      // (no ON CONFLICT), so it leaves all of them, keys included, for after; the batch load
      // needs the keys and `applyIndexes`, created first if it has to be used after all.
      const inSql = projection.loadRange !== undefined && !indexesFirst;
      let deferred: DeferredIndex[] = [];
      for (const table of projection.tables) {
        const created = await createShadow(this.db, shadow.schemas, table, inSql ? [] : (projection.applyIndexes ?? []), inSql);
        shadow.oids.set(table, created.oid);
        deferred.push(...created.deferred);
      }
      if (indexesFirst) {
        await this.createIndexes(deferred);
        deferred = [];
      }
      // Up to the head as it was when we started: with writes going on, chasing the live head
      // batch by batch might never end.
      const head = await this.store.feedHead();
      const loaded = await this.loadInSql(projection, shadow, head);
      if (loaded !== null) progress(loaded);
      else if (inSql) {
        const needed = deferred.filter((index) => index.constraint || projection.applyIndexes?.includes(index.name));
        await this.createIndexes(needed);
        deferred = deferred.filter((index) => !needed.includes(index));
      }
      let position = loaded === null ? await this.load(projection, shadow, head, batchSize, progress, 1) : head;
      // The new tables have no statistics until autovacuum comes by. Without them the planner
      // guesses 0.5 % of the rows per key and, for a lookup of a few dozen keys, reads the whole
      // table: the audit owner lookup went quadratic. The first batch's proportions (or the
      // whole table's, after a load in SQL) hold as the table grows.
      for (const table of projection.tables) await sql`ANALYZE ${sql.id(shadow.schemas.shadow, table)}`.execute(this.db);
      position = await this.load(projection, shadow, head, batchSize, progress);
      await this.createIndexes(deferred).catch((error: unknown) => {
        throw isTransientFailure(error) ? error : new DeferredIndexFailedError(error);
      });
      for (let attempt = 1; ; attempt++) {
        // What arrived while we loaded, built indexes or waited, so that little is left to apply
        // under the switch's lock.
        position = await this.load(projection, shadow, await this.store.feedHead(), batchSize, progress);
        try {
          progress(await this.switchOver(session, projection, shadow, position, batchSize));
          break;
        } catch (error) {
          if (attempt === SWITCH_ATTEMPTS || !isLockWait(error)) throw error;
        }
      }
    } catch (error) {
      // Its own error first: a clean-up that fails too must not hide it.
      await dropShadowSchemas(this.db, shadow.schemas, projection.tables).catch(() => undefined);
      throw error;
    }
    await dropShadowSchemas(this.db, shadow.schemas, projection.tables);
    const parked = shadow.parked.map(({ event, error }) => {
      const { code, message } = describeFailure(error);
      return { position: { transactionId: event.transactionId, globalPosition: event.globalPosition }, eventId: event.eventId, eventType: event.type, errorCode: code, error: message };
    });
    return { applied, total: Math.max(total, applied), parked };
  }

  /**
   * Side by side: each sorts on its own connection (measured 1.1-1.6 s against 1.8-2.2 s one
   * after the other for the audit table's four). A key's index becomes its constraint after all
   * are built: that takes the table's ACCESS EXCLUSIVE lock, which the other builds would wait for.
   */
  private async createIndexes(indexes: readonly DeferredIndex[]): Promise<void> {
    await Promise.all(indexes.map((index) => sql.raw(index.statement).execute(this.db)));
    for (const index of indexes) if (index.constraint) await sql.raw(index.constraint).execute(this.db);
  }

  /** The projection's own SQL load of the feed up to `until` (none: null), asynchronous commit as below. */
  private async loadInSql(projection: RebuildableProjection, shadow: Shadow, until: FeedPosition): Promise<number | null> {
    const loadRange = projection.loadRange?.bind(projection);
    if (!loadRange || !before(FEED_START, until)) return null;
    return this.db.connection().execute(async (connection) => {
      await sql`SET synchronous_commit = off`.execute(connection);
      try {
        // In one transaction, so that a load an event makes fail (an update without its creation,
        // a value over a column's or an index's limit) leaves nothing behind: it is declined, and
        // the batch path applies the range event by event where it must, parking what fails.
        const loaded = await connection
          .transaction()
          .execute((trx) => loadRange(trx, shadow.schemas.shadow, shadow.loadedTo, until))
          .catch((error: unknown) => {
            if (isTransientFailure(error)) throw error;
            return null;
          });
        if (loaded !== null) shadow.loadedTo = until;
        return loaded;
      } finally {
        await sql`RESET synchronous_commit`.execute(connection);
      }
    });
  }

  /**
   * Applies the feed after where the shadow tables stand to them, until past `until` (or
   * `maxBatches` batches); returns, and records in `shadow`, where they stand then. The next
   * batch is read while one is applied, so that this process decodes events while PostgreSQL
   * writes rows. The writes go through one connection, each statement in its own
   * transaction: nobody else reads the shadow tables, a rebuild that fails is dropped whole, and
   * a short statement holds no xid that would stall the live projections behind the feed's fence.
   */
  private async load(
    projection: RebuildableProjection,
    shadow: Shadow,
    until: FeedPosition,
    batchSize: number,
    progress: (events: number) => void,
    maxBatches = Infinity,
  ): Promise<FeedPosition> {
    const read = (after: FeedPosition) => {
      const reading = this.store.readFeed(after, batchSize);
      // Awaited in turn; if an apply fails first, the read in flight must not go unhandled.
      reading.catch(() => undefined);
      return reading;
    };
    return this.db.connection().execute(async (connection) => {
      // Durability can wait for the switch: its synchronous commit flushes the WAL of every
      // write before it, and a rebuild cut short is dropped and started again anyway.
      await sql`SET synchronous_commit = off`.execute(connection);
      try {
        const tables = connection.withSchema(shadow.schemas.shadow);
        let position = shadow.loadedTo;
        let next = before(position, until) ? read(position) : undefined;
        for (let batches = 1; next; batches++) {
          const events = await next;
          if (events.length === 0) break;
          const last = events[events.length - 1];
          position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
          next = batches < maxBatches && before(position, until) ? read(position) : undefined;
          await this.applyToShadow(tables, projection, events, shadow);
          shadow.loadedTo = position;
          progress(events.length);
        }
        return position;
      } finally {
        await sql`RESET synchronous_commit`.execute(connection);
      }
    });
  }

  /**
   * A batch of the load, outside any transaction (see `load`). When an event makes it fail, the
   * batch is applied again event by event, each in a transaction of its own: the events that fail
   * alone are set aside for the switch to park, the live runner's way. What the failed attempt
   * wrote before failing is written again harmlessly: every projection applies idempotently.
   */
  private async applyToShadow(tables: Kysely<Database>, projection: RebuildableProjection, events: readonly RecordedEvent[], shadow: Shadow): Promise<void> {
    try {
      const unreadable = events.find((event) => event.unreadable);
      if (unreadable) throw unreadable.unreadable;
      await projection.apply(tables, events);
    } catch (error) {
      if (isTransientFailure(error)) throw error;
      if (projection.neverPark) throw new ProjectionHaltedError(projection.name, events, error);
      for (const event of events) {
        if (event.unreadable) {
          shadow.parked.push({ event, error: event.unreadable });
          continue;
        }
        try {
          await tables.transaction().execute((trx) => projection.apply(trx, [event]));
        } catch (failure) {
          if (isTransientFailure(failure)) throw failure;
          shadow.parked.push({ event, error: failure });
        }
      }
    }
  }

  /** A batch inside the switch's transaction: under a savepoint, and event by event if an event makes it fail. */
  private async applyInSwitch(trx: Kysely<Database>, projection: RebuildableProjection, events: readonly RecordedEvent[]): Promise<FailedEvent[]> {
    const unreadable = events.find((event) => event.unreadable);
    if (unreadable && projection.neverPark) throw new ProjectionHaltedError(projection.name, events, unreadable.unreadable);
    if (unreadable) return applyEachAlone(trx, projection, events, true);
    await sql`SAVEPOINT switch_batch`.execute(trx);
    try {
      await projection.apply(trx, events);
      await sql`RELEASE SAVEPOINT switch_batch`.execute(trx);
      return [];
    } catch (error) {
      await sql`ROLLBACK TO SAVEPOINT switch_batch`.execute(trx);
      if (isTransientFailure(error)) throw error;
      if (projection.neverPark) throw new ProjectionHaltedError(projection.name, events, error);
      return applyEachAlone(trx, projection, events, true);
    }
  }

  /**
   * The switch, in one transaction; returns the feed events it applied. The checkpoint row is
   * locked before the tables: the live runner moves its checkpoint before it writes, so taking
   * them in the other order could deadlock with it.
   */
  private async switchOver(session: Kysely<Database>, projection: RebuildableProjection, shadow: Shadow, from: FeedPosition, batchSize: number): Promise<number> {
    // The checkpoint it moves to is where the shadow stands: a rebuild never switches a shadow it has not loaded that far.
    if (BigInt(from.transactionId) !== BigInt(shadow.loadedTo.transactionId) || from.globalPosition !== shadow.loadedTo.globalPosition) {
      throw new ShadowReplacedError(`rebuild: the shadow of ${projection.name} stands at ${JSON.stringify(shadow.loadedTo)}, not at ${JSON.stringify(from)}; nothing was switched`);
    }
    return session.transaction().execute(async (trx) => {
      await sql`SET LOCAL lock_timeout = ${sql.lit(SWITCH_LOCK_TIMEOUT)}`.execute(trx);
      await trx.insertInto('projection_checkpoints').values({ name: projection.name }).onConflict((oc) => oc.column('name').doNothing()).execute();
      await trx.selectFrom('projection_checkpoints').select('name').where('name', '=', projection.name).forUpdate().execute();
      for (const table of projection.tables) await sql`LOCK TABLE ${sql.id(LIVE_SCHEMA, table)} IN ACCESS EXCLUSIVE MODE`.execute(trx);

      const tables = trx.withSchema(shadow.schemas.shadow);
      let position = from;
      let applied = 0;
      const parked = [...shadow.parked];
      for (;;) {
        const events = await this.store.readFeed(position, batchSize, trx);
        if (events.length === 0) break;
        parked.push(...(await this.applyInSwitch(tables, projection, events)));
        const last = events[events.length - 1];
        position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
        applied += events.length;
      }
      // Beyond the checkpoint it moves to: the live runner delivers these again, and parks
      // there what cannot be applied.
      const tail = await this.store.readAfterFence(position, trx);
      if (tail.length) await this.applyInSwitch(tables, projection, tail);

      for (const table of projection.tables) await swapIn(trx, shadow.schemas, table, shadow.oids.get(table)!);
      await trx
        .insertInto('projection_checkpoints')
        .values({ name: projection.name, transaction_id: position.transactionId, global_position: position.globalPosition })
        .onConflict((oc) =>
          oc.column('name').doUpdateSet({ transaction_id: position.transactionId, global_position: position.globalPosition, updated_at: sql<Date>`now()` }),
        )
        .execute();
      // The rebuilt tables lack exactly these events: they are the projection's parked events now.
      await this.parked.replace(trx, projection.name, parked);
      shadow.parked.splice(0, shadow.parked.length, ...parked);
      return applied;
    });
  }
}
