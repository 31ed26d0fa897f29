import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { PREPARED, type Database } from '@accountable/database';
import { DuplicateEventIdError, WrongExpectedVersionError } from './event-store.errors';
import type { EventStore, Executor } from './event-store';
import type { NewEvent } from './event.types';
import { SharedCommits, writeBatch, type Settled, type SharedCommitsOptions } from './shared-commits';

/** A stream a decision rests on: read at `expectedVersion` (0: it did not exist), and what it appends there (maybe nothing). */
export interface CommandStream {
  streamId: string;
  expectedVersion: number;
  events: readonly NewEvent[];
}

/**
 * A read-model row the command's evolve computed, written in the commit: `match` names the
 * stored row (its key, and the version the decision read it at) — null: a new row; `row` is the
 * columns to set — null: the row goes. Exactly one row must match, or the command is re-decided.
 */
export interface RowWrite {
  /** A table listed in `command_row_tables`, whose writer is compiled (migration 0019). */
  table: string;
  match: Readonly<Record<string, unknown>> | null;
  row: Readonly<Record<string, unknown>> | null;
}

/** The answer a retry under the same idempotency key gets back, stored with the command's events. */
export interface StoredAnswer {
  scope: string;
  key: string;
  requestHash: string;
  /** Opaque to the store (the caller seals what it must). */
  response: string;
  /** How long the key holds, as a PostgreSQL interval ('24 hours'): an older row is replaced. */
  lifetime: string;
}

/** What one decision commits, all or nothing. */
export interface CommandWrite {
  streams: readonly CommandStream[];
  /** The time every event gets: the one the decision's read returned (see commit_command). */
  recordedAt: Date;
  rows?: readonly RowWrite[];
  answer?: StoredAnswer;
}

export interface Decided<T> {
  /** null: nothing to write (a command that changes nothing and stores no answer). */
  write: CommandWrite | null;
  result: T;
}

/** The rows or the idempotency key a decision read changed before its commit: decide again. */
export class CommandConflictError extends Error {
  override readonly name = 'CommandConflictError';
}

/** Attempts at one command while others keep getting there first. */
const MAX_ATTEMPTS = 10;

/**
 * One commit call in flight: commands deciding meanwhile wait for it and go together in the next
 * (commit_commands), as appends do. The bound keeps a call's lock list, and the time the first
 * command of a call waits for the last, modest.
 */
const SHARED_COMMANDS: SharedCommitsOptions = { maxInFlight: 1, maxBatch: 64 };

type OutcomeRow = { outcome: 'committed' | 'wrong_version' | 'clock' | 'duplicate_event'; conflict_stream: string | null; conflict_version: number | null };

/** A decision's write with its event ids drawn: a commit run again alone carries the same ids. */
interface PendingCommit {
  write: CommandWrite;
  ids: string[];
}

/**
 * A command as one read and one write. `attempt` reads what the decision needs (one statement,
 * no locks: a snapshot at known stream versions) and decides; the commit is one call of
 * commit_command (migration 0017), its own transaction, which locks every stream the decision
 * rests on in a fixed order, checks each is still at the version read, appends, writes the rows
 * and the idempotent answer. Stream locks are only ever held inside that call, so no command
 * waits on another's round trips, and lock order cannot deadlock. Commits share calls: those
 * that arrive while one is in flight go together in the next (commit_commands, migration 0021),
 * one transaction and one WAL flush for all, each command with its own outcome.
 *
 * A conflict (another writer got there first) re-reads and re-decides. Under contention on one
 * stream an optimistic retry could lose again and again (twenty renames of one account at once),
 * so a retry is pessimistic: it takes the locks of the streams the last decision rested on,
 * reads under them and commits in that transaction — the queue the locks form lets every
 * writer through in turn. A later conflict (the decision reached a stream not locked yet, or a
 * deadlock that reaching it caused) tries again with the new set.
 */
export class CommandTransaction {
  private readonly shared: SharedCommits<PendingCommit, void>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    options: { sharedCommits?: SharedCommitsOptions } = {},
  ) {
    this.shared = new SharedCommits((batch) => this.commitShared(batch), options.sharedCommits ?? SHARED_COMMANDS);
  }

  async run<T>(attempt: (executor: Executor) => Promise<Decided<T>>): Promise<T> {
    let locks: readonly string[] | null = null;
    for (let i = 1; ; i++) {
      let decided: Decided<T> | undefined;
      try {
        if (locks === null) {
          decided = await attempt(this.db);
          // Its own transaction, shared with the commands that decide meanwhile (commit_commands).
          if (decided.write) await this.shared.submit(pending(decided.write));
        } else {
          const streams = locks;
          await this.db.transaction().execute(async (trx) => {
            await sql`SELECT pg_advisory_xact_lock(k) FROM (SELECT hashtextextended(s, 0) AS k FROM unnest(${streams}::text[]) s ORDER BY 1) ordered`.execute(trx);
            decided = await attempt(trx);
            if (decided.write) {
              const commit = pending(decided.write);
              this.outcome(commit, await commitAlone(trx, commit));
            }
          });
        }
      } catch (error) {
        if (!isConflict(error) || i >= MAX_ATTEMPTS) throw error;
        const last = decided?.write?.streams.map((s) => s.streamId) ?? [];
        locks = [...new Set([...(locks ?? []), ...last, ...(error instanceof WrongExpectedVersionError ? [error.streamId] : [])])];
        continue;
      }
      const done = decided!;
      if (done.write?.streams.some((s) => s.events.length > 0)) this.store.committed();
      return done.result;
    }
  }

  /** One batch of shared commits (writeBatch): alone, commit_command; together, commit_commands. */
  private commitShared(batch: readonly PendingCommit[]): Promise<Settled<void>[]> {
    return writeBatch(batch, {
      name: 'commit_commands',
      alone: (commit) => commitAlone(this.db, commit),
      together: (commits) => this.commitTogether(commits),
      result: (commit, row) => this.outcome(commit, row),
    });
  }

  /** One call of commit_commands (migration 0021): an outcome row per command, numbered by its place in the batch. */
  private async commitTogether(batch: readonly PendingCommit[]): Promise<(OutcomeRow & { item: number })[]> {
    const writes = batch.map((c) => c.write);
    const streams = writes.flatMap((w) => w.streams);
    const events = writes.flatMap((w) => w.streams.flatMap((s, i) => s.events.map((event) => ({ stream: i + 1, event }))));
    const { rows } = await sql<OutcomeRow & { item: number }>`
      SELECT * FROM commit_commands(
        ${writes.map((w) => w.streams.length)}::integer[], ${streams.map((s) => s.streamId)}::text[],
        ${streams.map((s) => s.expectedVersion)}::bigint[],
        ${writes.map((w) => w.streams.reduce((n, s) => n + s.events.length, 0))}::integer[],
        ${events.map((e) => e.stream)}::integer[], ${batch.flatMap((c) => c.ids)}::uuid[],
        ${events.map((e) => e.event.type)}::text[], ${events.map((e) => e.event.schemaVersion ?? 1)}::integer[],
        ${events.map((e) => JSON.stringify(e.event.data))}::jsonb[],
        ${events.map((e) => JSON.stringify(e.event.metadata ?? {}))}::jsonb[],
        ${writes.map((w) => w.recordedAt)}::timestamptz[], ${writes.map((w) => JSON.stringify(w.rows ?? []))}::jsonb[],
        ${writes.map((w) => (w.answer ? JSON.stringify(answerTexts(w.answer)) : null))}::jsonb[])${PREPARED}`.execute(this.db);
    return rows;
  }

  /** A command's outcome row: done, or the typed error that says why not. */
  private outcome({ write, ids }: PendingCommit, row: OutcomeRow): void {
    const events = write.streams.reduce((n, s) => n + s.events.length, 0);
    switch (row.outcome) {
      case 'committed':
        for (const stream of write.streams) if (stream.events.length > 0) this.store.report('appended', stream.events.length);
        return;
      case 'wrong_version':
      case 'clock': {
        this.store.report('wrong_version', events);
        const expected = write.streams.find((s) => s.streamId === row.conflict_stream)?.expectedVersion ?? 0;
        throw new WrongExpectedVersionError(row.conflict_stream!, expected, row.conflict_version);
      }
      case 'duplicate_event':
        this.store.report('duplicate_event', events);
        throw new DuplicateEventIdError(write.streams.map((s) => s.streamId).join(', '), ids, null);
    }
  }
}

function pending(write: CommandWrite): PendingCommit {
  return { write, ids: write.streams.flatMap((s) => s.events.map((event) => event.eventId ?? randomUUID())) };
}

/** One call of commit_command; throws what a conflict or a duplicate event id is. */
async function commitAlone(executor: Executor, { write, ids }: PendingCommit): Promise<OutcomeRow> {
  const streams = write.streams.map((s) => s.streamId);
  const events = write.streams.flatMap((s, i) => s.events.map((event) => ({ stream: i + 1, event })));
  const answer = write.answer;
  const query = sql<OutcomeRow>`
    SELECT * FROM commit_command(
      ${streams}::text[], ${write.streams.map((s) => s.expectedVersion)}::bigint[],
      ${events.map((e) => e.stream)}::integer[], ${ids}::uuid[], ${events.map((e) => e.event.type)}::text[],
      ${events.map((e) => e.event.schemaVersion ?? 1)}::integer[],
      ${events.map((e) => JSON.stringify(e.event.data))}::jsonb[],
      ${events.map((e) => JSON.stringify(e.event.metadata ?? {}))}::jsonb[],
      ${write.recordedAt}::timestamptz, ${JSON.stringify(write.rows ?? [])}::jsonb,
      ${answer ? answerTexts(answer) : null}::text[])${PREPARED}`;
  return query.execute(executor).then(
    ({ rows }) => rows[0],
    (error: unknown) => {
      throw translate(error, streams[0] ?? '', ids);
    },
  );
}

/**
 * An answer alone, stored in the caller's transaction: for commands whose events and rows their
 * caller writes itself (Event Streams). commit_command with nothing else to commit writes it by
 * the same rule as a command's commit: an expired row under the key is replaced; a live one (a
 * concurrent request under the key committed first) is a CommandConflictError, and the caller
 * decides again to find that one's answer.
 */
export async function storeAnswer(executor: Executor, answer: StoredAnswer): Promise<void> {
  // No events: the time is not used.
  await commitAlone(executor, pending({ streams: [], recordedAt: new Date(), answer }));
}

/** commit_command's idempotency argument: {scope, key, request_hash, response, lifetime}. */
function answerTexts(answer: StoredAnswer): string[] {
  return [answer.scope, answer.key, answer.requestHash, answer.response, answer.lifetime];
}

/** serialization_failure raised by commit_command, and deadlock_detected: the decision is re-made. */
function translate(error: unknown, streamId: string, ids: readonly string[]): unknown {
  const e = error as { code?: string; constraint?: string; message?: string };
  if (e?.code === '40001' || e?.code === '40P01') return new CommandConflictError(e.message ?? 'conflict', { cause: error });
  if (e?.code === '23505' && e.constraint === 'events_event_id_key') return new DuplicateEventIdError(streamId, ids, null);
  return error;
}

function isConflict(error: unknown): boolean {
  return error instanceof WrongExpectedVersionError || error instanceof CommandConflictError;
}
