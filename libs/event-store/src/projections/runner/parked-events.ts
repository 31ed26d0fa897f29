import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { UnreadableEventError, isConcurrencyError } from '../../event-store.errors';
import type { FeedPosition, RecordedEvent } from '../../event.types';
import type { Projection } from '../projection';

/** An event a projection could not apply, and why. */
export interface FailedEvent {
  event: Pick<RecordedEvent, 'transactionId' | 'globalPosition' | 'eventId' | 'type'>;
  error: unknown;
}

export interface ParkedEvent {
  projection: string;
  position: FeedPosition;
  eventId: string;
  eventType: string;
  errorCode: string | null;
  error: string;
  attempts: number;
  parkedAt: Date;
  lastAttemptAt: Date;
}

/** A stored error message is kept to this many characters: it is for a person, and a hostile event may make it huge. */
const MAX_ERROR_LENGTH = 1000;

const SQLSTATE = /^[0-9A-Z]{5}$/;
/**
 * SQLSTATE classes the content of an event raises: data exceptions (22: a value too long, not
 * valid UTF-8, out of range), integrity constraint violations (23) and program limits (54: an
 * index row over the B-tree maximum). Every other class is about the database or the code around
 * the event: connection (08), resources (53), operator intervention (57: cancelled by the
 * statement timeout, shutdown), serialization and deadlocks (40), lock timeouts (55), a missing
 * table or privilege (42: a deploy to fix, not a reason to set every event aside), system
 * errors (58, XX).
 */
const EVENT_CLASSES = new Set(['22', '23', '54']);
/** Errors pg, pg-pool and kysely raise, without a SQLSTATE, when the connection is the trouble. */
const CONNECTION_TROUBLE = /connection|terminated|not queryable|timeout|timed out|socket|pool|destroyed|ECONN|EPIPE|EAI_AGAIN/i;

/**
 * Whether a projection's failure says nothing about the event (the database or the connection:
 * try again later, as before) — as opposed to a failure of the event itself, which only parking
 * gets past. Errors without a SQLSTATE thrown by a projection's own code (a TypeError on an odd
 * payload, a rule it enforces) belong to the event; the caller confirms that by applying the
 * event alone before it parks it, so a one-off failure of a whole batch parks nothing.
 */
export function isTransientFailure(error: unknown): boolean {
  if (error instanceof UnreadableEventError) return false; // its message quotes the upcaster's
  // A process manager's append that lost a race (the owner cascade): another writer, not the event.
  if (isConcurrencyError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SQLSTATE.test(code)) return !EVENT_CLASSES.has(code.slice(0, 2));
  // Node's system errors (ECONNRESET, ETIMEDOUT, ...).
  if (typeof code === 'string' && code !== '') return true;
  return error instanceof Error && CONNECTION_TROUBLE.test(error.message);
}

/**
 * An event of a `neverPark` projection failed for a reason of its own: the projection stops
 * there instead of parking it (see Projection.neverPark).
 */
export class ProjectionHaltedError extends Error {
  override readonly name = 'ProjectionHaltedError';
  constructor(
    readonly projection: string,
    events: readonly Pick<RecordedEvent, 'transactionId' | 'globalPosition'>[],
    override readonly cause: unknown,
  ) {
    const { code, message } = describeFailure(cause);
    const first = events[0];
    const last = events[events.length - 1];
    const at = (e: typeof first) => `${e.transactionId}/${e.globalPosition}`;
    super(
      `projection ${projection} cannot apply the events at positions ${first ? at(first) : '?'}..${last ? at(last) : '?'} [${code ?? 'error'}: ${message}]; ` +
        'it never parks an event (one skipped would corrupt it), so it stops there and tries again: remove the cause',
    );
  }
}

/** The failure as stored and shown: its SQLSTATE (or the error's name) and a bounded message. */
export function describeFailure(error: unknown): { code: string | null; message: string } {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: typeof code === 'string' && code !== '' ? code : error instanceof Error ? error.name : null,
    // PostgreSQL's text holds no NUL, and the message may quote the event.
    message: (message.length > MAX_ERROR_LENGTH ? `${message.slice(0, MAX_ERROR_LENGTH - 1)}…` : message).replace(/\u0000/g, '\\u0000'),
  };
}

/**
 * Applies `events` one at a time, each under a savepoint of `executor`'s transaction (or on its
 * own, for a projection with `ownTransactions`), and returns the ones that fail for a reason of
 * their own; their effects are rolled back, everyone else's kept. A transient failure is thrown:
 * the caller's transaction then rolls back whole and the batch is tried again later.
 */
export async function applyEachAlone(executor: Kysely<Database>, projection: Projection, events: readonly RecordedEvent[], inTransaction: boolean): Promise<FailedEvent[]> {
  const failed: FailedEvent[] = [];
  for (const event of events) {
    if (event.unreadable) {
      failed.push({ event, error: event.unreadable });
      continue;
    }
    if (inTransaction) await sql`SAVEPOINT apply_one`.execute(executor);
    try {
      await projection.apply(executor, [event]);
      if (inTransaction) await sql`RELEASE SAVEPOINT apply_one`.execute(executor);
    } catch (error) {
      // A lost connection fails here too, and that goes up as what it is.
      if (inTransaction) await sql`ROLLBACK TO SAVEPOINT apply_one`.execute(executor);
      if (isTransientFailure(error)) throw error;
      failed.push({ event, error });
    }
  }
  return failed;
}

/** The `projection_parked_events` table: one row per event a projection has set aside. */
export class ParkedEventStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records (or records again, counting the attempt) `failure` for `projection`, in `executor`'s transaction. */
  async park(executor: Kysely<Database>, projection: string, failure: FailedEvent): Promise<void> {
    const { code, message } = describeFailure(failure.error);
    await executor
      .insertInto('projection_parked_events')
      .values({
        projection,
        transaction_id: failure.event.transactionId,
        global_position: failure.event.globalPosition,
        event_id: failure.event.eventId,
        event_type: failure.event.type,
        error_code: code,
        error: message,
      })
      .onConflict((oc) =>
        oc.columns(['projection', 'global_position']).doUpdateSet({
          error_code: code,
          error: message,
          attempts: sql<number>`projection_parked_events.attempts + 1`,
          last_attempt_at: sql<Date>`now()`,
        }),
      )
      .execute();
  }

  /** A retry failed again: the new error replaces the old. */
  async failedAgain(executor: Kysely<Database>, projection: string, globalPosition: number, error: unknown): Promise<void> {
    const { code, message } = describeFailure(error);
    await executor
      .updateTable('projection_parked_events')
      .set({ error_code: code, error: message, attempts: sql<number>`attempts + 1`, last_attempt_at: sql<Date>`now()` })
      .where('projection', '=', projection)
      .where('global_position', '=', globalPosition)
      .execute();
  }

  async remove(executor: Kysely<Database>, projection: string, globalPosition: number): Promise<void> {
    await executor.deleteFrom('projection_parked_events').where('projection', '=', projection).where('global_position', '=', globalPosition).execute();
  }

  /** Parked events, in feed order per projection; of one projection, or of all. */
  async list(projection?: string, executor: Kysely<Database> = this.db): Promise<ParkedEvent[]> {
    let query = executor.selectFrom('projection_parked_events').selectAll();
    if (projection !== undefined) query = query.where('projection', '=', projection);
    const rows = await query.orderBy('projection').orderBy('transaction_id').orderBy('global_position').execute();
    return rows.map((row) => ({
      projection: row.projection,
      position: { transactionId: String(row.transaction_id), globalPosition: row.global_position },
      eventId: row.event_id,
      eventType: row.event_type,
      errorCode: row.error_code,
      error: row.error,
      attempts: row.attempts,
      parkedAt: row.parked_at,
      lastAttemptAt: row.last_attempt_at,
    }));
  }

  /** How many events each projection has parked (0 for those with none). */
  async counts(names: readonly string[], executor: Kysely<Database> = this.db): Promise<Map<string, number>> {
    const counts = new Map(names.map((name) => [name, 0]));
    const rows = await executor
      .selectFrom('projection_parked_events')
      .select(['projection', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('projection')
      .execute();
    for (const row of rows) if (counts.has(row.projection)) counts.set(row.projection, Number(row.n));
    return counts;
  }

  /** A rebuild's switch: the projection's parked events become exactly those its rebuilt tables lack. */
  async replace(executor: Kysely<Database>, projection: string, failures: readonly FailedEvent[]): Promise<void> {
    await executor.deleteFrom('projection_parked_events').where('projection', '=', projection).execute();
    for (const failure of failures) await this.park(executor, projection, failure);
  }
}
