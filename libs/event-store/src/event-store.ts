import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { PREPARED, type Database } from '@accountable/database';
import type { AppendResult, ExpectedVersion, FeedPosition, NewEvent, RecordedEvent } from './event.types';
import { DuplicateEventIdError, UnreadableEventError, WrongExpectedVersionError } from './event-store.errors';
import { FeedSignal } from './feed-signal';
import { SharedCommits, writeBatch, type Settled, type SharedCommitsOptions } from './shared-commits';
import { Upcasters } from './upcasters';

export interface ReadStreamOptions {
  fromVersion?: number;
  toVersion?: number;
  /**
   * Time travel: the longest prefix of the stream's versions all recorded at or before this
   * instant, to the millisecond. Per stream, times follow versions for events appended since
   * migration 0009; an older event whose time runs back against its version is never read
   * ahead of the version before it.
   */
  until?: Date;
}

interface EventRow {
  global_position: number;
  transaction_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  recorded_at: Date;
}

/** Anything that runs queries: the pool-backed Kysely or an open transaction. */
export type Executor = Kysely<Database>;

/** An append waiting for, or riding in, a shared commit. */
interface PendingAppend {
  streamId: string;
  events: readonly NewEvent[];
  expected: ExpectedVersion;
  ids: string[];
}

interface AppendRow {
  outcome: 'appended' | 'idempotent' | 'wrong_version' | 'duplicate_event';
  actual_version: number | null;
  first_position: number | null;
  last_position: number | null;
  tx: string | null;
  recorded_at: Date | null;
}

/**
 * One call in flight: every append arriving meanwhile waits for it and goes in the next, so
 * under load each call carries about as many appends as there are writers. The bound keeps one
 * statement's arrays (and its lock list) modest.
 */
const SHARED_APPENDS: SharedCommitsOptions = { maxInFlight: 1, maxBatch: 256 };

const expectedKind = (expected: ExpectedVersion) => (typeof expected === 'number' ? 'exact' : expected);

/** What an append came to; for metrics. */
export type AppendOutcome = 'appended' | 'idempotent' | 'wrong_version' | 'duplicate_event';

export class EventStore {
  /** Told of every append's outcome (metrics); set by whoever observes the store. */
  private readonly observers: ((outcome: AppendOutcome, events: number) => void)[] = [];

  observe(observer: (outcome: AppendOutcome, events: number) => void): void {
    this.observers.push(observer);
  }

  /** Wakes projectors after commits; see `committed`. */
  readonly signal: FeedSignal;

  private readonly shared: SharedCommits<PendingAppend, AppendResult>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly upcasters: Upcasters = new Upcasters(),
    options: { sharedCommits?: SharedCommitsOptions } = {},
  ) {
    this.signal = new FeedSignal(db);
    this.shared = new SharedCommits((batch) => this.commitShared(batch), options.sharedCommits ?? SHARED_APPENDS);
  }

  /**
   * Tells projectors that events were committed. `append` does it itself when it ran in its own
   * transaction; whoever appends inside a transaction of theirs calls this after the commit.
   */
  committed(): void {
    this.signal.committed();
  }

  /**
   * Appends atomically, in one round trip (see `append_to_stream`; its current definition is in
   * migration 0009).
   *
   * Without `executor`, appends share commits: those that arrive while another is in flight go
   * together in the next call (`append_to_streams`, migration 0018), one transaction and one WAL
   * flush for all of them, each with its own outcome. The promise resolves only once the call
   * that carried the append has committed.
   *
   * Pass `executor` to append inside a caller's transaction; it must be that transaction's
   * first write, so that no transaction id is taken before the stream lock, and the caller
   * calls `committed()` after its commit.
   */
  async append(
    streamId: string,
    events: readonly NewEvent[],
    expected: ExpectedVersion,
    executor: Executor = this.db,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    const append: PendingAppend = { streamId, events, expected, ids: events.map((e) => e.eventId ?? randomUUID()) };
    if (executor !== this.db) return this.resultOf(append, await this.appendAlone(append, executor));
    return this.shared.submit(append);
  }

  /** One batch of shared appends; see `append`. */
  private async commitShared(batch: readonly PendingAppend[]): Promise<Settled<AppendResult>[]> {
    const settled = await writeBatch(batch, {
      name: 'append_to_streams',
      alone: (append) => this.appendAlone(append, this.db),
      together: (appends) => this.appendTogether(appends),
      result: (append, row) => this.resultOf(append, row),
    });
    if (settled.some((s) => s.ok && s.value.written)) this.committed();
    return settled;
  }

  private async appendAlone(append: PendingAppend, executor: Executor): Promise<AppendRow> {
    const { streamId, events, expected, ids } = append;
    const query = sql<AppendRow>`SELECT * FROM append_to_stream(
        ${streamId}, ${expectedKind(expected)}, ${typeof expected === 'number' ? expected : null}::bigint,
        ${ids}::uuid[], ${events.map((e) => e.type)}::text[],
        ${events.map((e) => e.schemaVersion ?? 1)}::integer[],
        ${events.map((e) => JSON.stringify(e.data))}::jsonb[],
        ${events.map((e) => JSON.stringify(e.metadata ?? {}))}::jsonb[])${PREPARED}`;
    return query.execute(executor).then(
      ({ rows }) => rows[0],
      (error: unknown) => {
        const actual = concurrentDuplicateVersion(error);
        if (actual !== undefined) this.report('duplicate_event', events.length);
        throw actual === undefined ? error : new DuplicateEventIdError(streamId, ids, actual);
      },
    );
  }

  /** One outcome row per append, numbered by its place in the batch. */
  private async appendTogether(batch: readonly PendingAppend[]): Promise<(AppendRow & { item: number })[]> {
    const events = batch.flatMap((a) => a.events);
    const { rows } = await sql<AppendRow & { item: number }>`SELECT * FROM append_to_streams(
        ${batch.map((a) => a.streamId)}::text[], ${batch.map((a) => expectedKind(a.expected))}::text[],
        ${batch.map((a) => (typeof a.expected === 'number' ? a.expected : null))}::bigint[],
        ${batch.map((a) => a.events.length)}::integer[], ${batch.flatMap((a) => a.ids)}::uuid[],
        ${events.map((e) => e.type)}::text[], ${events.map((e) => e.schemaVersion ?? 1)}::integer[],
        ${events.map((e) => JSON.stringify(e.data))}::jsonb[],
        ${events.map((e) => JSON.stringify(e.metadata ?? {}))}::jsonb[])${PREPARED}`.execute(this.db);
    return rows;
  }

  /** An append's row as its result, or its typed error. */
  private resultOf({ streamId, events, expected, ids }: PendingAppend, row: AppendRow): AppendResult {
    this.report(row.outcome, events.length);
    switch (row.outcome) {
      case 'appended':
        return {
          nextVersion: row.actual_version!,
          written: true,
          firstPosition: row.first_position!,
          lastPosition: row.last_position!,
          transactionId: row.tx!,
          recordedAt: row.recorded_at!,
        };
      case 'idempotent':
        return { nextVersion: row.actual_version!, written: false };
      case 'wrong_version':
        throw new WrongExpectedVersionError(streamId, expected, row.actual_version);
      case 'duplicate_event':
        throw new DuplicateEventIdError(streamId, ids, row.actual_version);
    }
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}, executor: Executor = this.db): Promise<RecordedEvent[]> {
    let query = executor.selectFrom('events').selectAll().where('stream_id', '=', streamId);
    if (options.fromVersion !== undefined) query = query.where('stream_version', '>=', options.fromVersion);
    if (options.toVersion !== undefined) query = query.where('stream_version', '<=', options.toVersion);
    // A Date holds milliseconds and recorded_at microseconds: compare at the Date's precision, so
    // that an event's own recordedAt, passed back as `until`, includes that event. The prefix
    // ends before the first version recorded after the instant.
    if (options.until !== undefined) {
      const firstAfter = sql<number>`(SELECT min(later.stream_version) FROM events later
                                        WHERE later.stream_id = ${streamId}
                                          AND later.recorded_at >= ${options.until}::timestamptz + interval '1 millisecond')`;
      query = query.where('stream_version', '<', sql<number>`coalesce(${firstAfter}, 9223372036854775807)`);
    }
    const rows = await query.orderBy('stream_version').execute();
    return rows.map((row) => this.toRecorded(row as unknown as EventRow));
  }

  /** The events with these ids, wherever they are, in global order; unknown ids are skipped. */
  async readEvents(eventIds: readonly string[], executor: Executor = this.db): Promise<RecordedEvent[]> {
    const ids = eventIds.filter(isUuid);
    if (ids.length === 0) return [];
    const rows = await executor.selectFrom('events').selectAll().where(sql<boolean>`event_id = ANY(${ids}::uuid[])`).orderBy('global_position').execute();
    return rows.map((row) => this.toRecorded(row as unknown as EventRow));
  }

  /**
   * The events whose metadata names one of `causationIds` as their cause, at most `limitPerCause`
   * for each, each cause's in global order. One index probe per cause (events_causation_idx,
   * migration 0008): the expressions below must stay the index's.
   */
  async readCausedBy(causationIds: readonly string[], limitPerCause: number, executor: Executor = this.db): Promise<RecordedEvent[]> {
    const ids = [...new Set(causationIds)];
    if (ids.length === 0) return [];
    const { rows } = await sql<EventRow>`
      SELECT e.* FROM unnest(${ids}::text[]) AS c(id)
       CROSS JOIN LATERAL (
         SELECT * FROM events
          WHERE metadata ? 'causationId' AND metadata->>'causationId' = c.id
          ORDER BY global_position LIMIT ${limitPerCause}
       ) AS e`.execute(executor);
    return rows.map((row) => this.toRecorded(row));
  }

  /**
   * Takes the stream's lock (the key append_to_stream takes) until the transaction ends, for a
   * writer that loads, decides and appends in its own transaction (Event Streams' configuration).
   */
  async lockStream(streamId: string, executor: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${streamId}, 0))`.execute(executor);
  }

  /** The stream's current version, or null if it does not exist. */
  async streamVersion(streamId: string, executor: Executor = this.db): Promise<number | null> {
    const row = await executor.selectFrom('streams').select('version').where('stream_id', '=', streamId).executeTakeFirst();
    return row?.version ?? null;
  }

  /**
   * The gap-safe global feed: events after `after`, in (transaction_id, global_position) order,
   * only from transactions older than every transaction still running that may append.
   * Identity values are taken out of commit order, so reading by position alone could skip an
   * event whose transaction commits later; below the fence every transaction that could insert
   * an event has ended, so nothing can appear behind the reader any more. The fence
   * (`feed_fence()`, migration 0020) is the snapshot's xmin less the feed readers' own
   * transactions (projector batches, Event Streams delivery), which may not append.
   */
  async readFeed(after: FeedPosition, limit: number, executor: Executor = this.db): Promise<RecordedEvent[]> {
    const { rows } = await sql<EventRow>`
      SELECT global_position, transaction_id, stream_id, stream_version, event_id, type,
             schema_version, data, metadata, recorded_at
        FROM events
       WHERE (transaction_id, global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)
         AND transaction_id < feed_fence()
       ORDER BY transaction_id, global_position
       LIMIT ${limit}${PREPARED}`.execute(executor);
    return rows.map((row) => this.toRecorded(row, true));
  }

  /** The position of the newest event the feed can deliver now. */
  async feedHead(executor: Executor = this.db): Promise<FeedPosition> {
    const { rows } = await sql<{ transaction_id: string; global_position: number }>`
      SELECT transaction_id, global_position FROM events
       WHERE transaction_id < feed_fence()
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`.execute(executor);
    return rows[0] ? { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position } : { transactionId: '0', globalPosition: 0 };
  }

  /**
   * Whether committed events after `after` wait behind the fence (an older transaction, perhaps
   * not an appender at all, is still open). Such events come with no further wake-up of their
   * own, so a reader that got nothing from `readFeed` looks again soon instead of at its poll.
   */
  async heldBack(after: FeedPosition, executor: Executor = this.db): Promise<boolean> {
    const { rows } = await sql<{ held: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM events
         WHERE (transaction_id, global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)
      ) AS held`.execute(executor);
    return rows[0].held;
  }

  /**
   * Committed events after `after` that the feed does not deliver yet because an older
   * transaction is still open (above the fence), in global-position order — per stream that is
   * version order. For the last step of a rebuild, under a lock that stops new appends.
   */
  async readAfterFence(after: FeedPosition, executor: Executor = this.db): Promise<RecordedEvent[]> {
    const { rows } = await sql<EventRow>`
      SELECT global_position, transaction_id, stream_id, stream_version, event_id, type,
             schema_version, data, metadata, recorded_at
        FROM events
       WHERE (transaction_id, global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)
       ORDER BY global_position`.execute(executor);
    return rows.map((row) => this.toRecorded(row, true));
  }

  /** Tells the observers an append's outcome; CommandTransaction reports its commits' appends here too. */
  report(outcome: AppendOutcome, events: number): void {
    for (const observer of this.observers) observer(outcome, events);
  }

  /**
   * `fromFeed`: an event whose upcast fails comes back as stored, marked `unreadable`, so that the
   * events around it still reach the projections (which park it); any other reader gets the error.
   */
  private toRecorded(row: EventRow, fromFeed = false): RecordedEvent {
    let lifted: { schemaVersion: number; data: Record<string, unknown> };
    let unreadable: UnreadableEventError | undefined;
    try {
      lifted = this.upcasters.upcast(row.type, row.schema_version, row.data);
    } catch (error) {
      unreadable = new UnreadableEventError(row.event_id, row.type, row.schema_version, error);
      if (!fromFeed) throw unreadable;
      lifted = { schemaVersion: row.schema_version, data: row.data };
    }
    const { schemaVersion, data } = lifted;
    return {
      globalPosition: row.global_position,
      transactionId: String(row.transaction_id),
      streamId: row.stream_id,
      streamVersion: row.stream_version,
      eventId: row.event_id,
      type: row.type,
      schemaVersion,
      data,
      metadata: row.metadata,
      recordedAt: row.recorded_at,
      ...(unreadable ? { unreadable } : {}),
    };
  }
}

/**
 * `append_to_stream` raises unique_violation on events_event_id_key when an id of the append
 * was committed concurrently to another stream; its detail carries the stream's version.
 * Returns undefined for any other error.
 */
function concurrentDuplicateVersion(error: unknown): number | null | undefined {
  const e = error as { code?: string; constraint?: string; detail?: string };
  if (e?.code !== '23505' || e.constraint !== 'events_event_id_key') return undefined;
  try {
    const version = (JSON.parse(e.detail ?? '') as { actual_version?: unknown }).actual_version;
    return typeof version === 'number' ? version : null;
  } catch {
    return null;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids read back from metadata are only text: one that is not a uuid names no event. */
const isUuid = (id: string): boolean => UUID.test(id);
