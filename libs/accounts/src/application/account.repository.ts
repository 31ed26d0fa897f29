import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore, WrongExpectedVersionError, type ExpectedVersion, type RecordedEvent } from '@accountable/event-store';
import { DB } from '@accountable/platform';
import { accountStreamId, fold, SCHEMA_VERSION, type AccountEvent, type AccountState } from '../domain';
import type { AccountRecord, AccountRow } from '../read-models/account/account.reader';
import { eventMetadata, type CommandContext } from './command-context';
import { IdempotencyKeyTakenError, IdempotencyStore, type IdempotencyKey } from './idempotency.store';

/** One event as the read model needs it; `recordedAt` is the time the append stamped. */
export interface CommittedAccountEvent {
  eventId: string;
  streamId: string;
  streamVersion: number;
  type: string;
  data: Record<string, unknown>;
  recordedAt: Date;
}

/**
 * Writes the account read model inside the append transaction (read-your-writes). Bound by
 * AccountsModule to the read model's version-guarded writer, the same one the feed drives.
 */
export const ACCOUNT_READ_MODEL_WRITER = Symbol('ACCOUNT_READ_MODEL_WRITER');
export interface AccountReadModelWriter {
  /** Returns the rows it wrote, by sid, as its last write left each. */
  apply(executor: Kysely<Database>, events: readonly CommittedAccountEvent[]): Promise<ReadonlyMap<string, AccountRow>>;
}

/** What a command's transaction wrote: its events, and the read-model rows as it left them. */
interface Written {
  events: CommittedAccountEvent[];
  rows: ReadonlyMap<string, AccountRow>;
}

const NOTHING_WRITTEN: Written = { events: [], rows: new Map() };

export interface StreamChange {
  sid: string;
  expected: ExpectedVersion;
  events: readonly AccountEvent[];
  /** Deterministic ids make a re-run (a cascade after a crash) idempotent. */
  eventIds?: readonly string[];
}

/** Folds a stream for a decision, its lock taken first: see AccountRepository.exclusive. */
export type LockedLoad = (sid: string) => Promise<AccountState>;

/** A stream's events after `afterVersion`, read after taking its lock: see AccountRepository.commit. */
export type LockedRead = (sid: string, afterVersion: number) => Promise<RecordedEvent[]>;

const MAX_ATTEMPTS = 10;

@Injectable()
export class AccountRepository {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(ACCOUNT_READ_MODEL_WRITER) private readonly readModel: AccountReadModelWriter,
    private readonly idempotency: IdempotencyStore,
  ) {}

  async load(sid: string, executor: Kysely<Database> = this.db): Promise<AccountState> {
    return foldRecorded(await this.store.readStream(accountStreamId(sid), {}, executor));
  }

  /** The account as its first `version` events left it, and the events after those. */
  async loadAsOf(sid: string, version: number): Promise<{ state: AccountState; later: RecordedEvent[] }> {
    const events = await this.store.readStream(accountStreamId(sid));
    return { state: foldRecorded(events.filter((e) => e.streamVersion <= version)), later: events.filter((e) => e.streamVersion > version) };
  }

  /**
   * Load → decide → commit in one transaction, each stream locked before it is read (the same
   * lock append_to_stream takes). Concurrent writers to one stream queue instead of failing each
   * other's version check: twenty simultaneous renames used to exhaust the retries (a 500), now
   * they take turns. And what a decision read stays true until it commits, so a subaccount's
   * status change cannot slip past its owner's suspension (21476).
   *
   * Streams are locked in the order `decide` loads them. Handlers load a subaccount before its
   * owner, and nothing holding an owner waits for an existing subaccount (a creation locks only
   * the new sid), so the order cannot deadlock. `decide` must read through `load` only: a second
   * pool connection taken while holding a lock could wait on the pool behind lock waiters.
   */
  async exclusive(decide: (load: LockedLoad) => Promise<readonly StreamChange[]>, context: CommandContext): Promise<CommittedAccountEvent[]> {
    const committed = await this.retrying(() =>
      this.db.transaction().execute(async (trx) => {
        const locked = new Set<string>();
        return (await this.write(trx, await decide(this.lockedLoad(trx, locked)), context, locked)).events;
      }),
    );
    this.wakeProjectors(committed);
    return committed;
  }

  /**
   * `exclusive` for an API command that answers with an account: `answer` gets, in the same
   * transaction, the read-model rows the command wrote (as it left them), or reads the account
   * when it wrote none, so it shows exactly what this command committed.
   *
   * With an Idempotency-Key, the requests sharing it take turns (its lock comes before any
   * stream lock). If the key already holds an answer, that answer is returned and nothing is
   * decided (a different request under it: IdempotencyKeyReusedError). Otherwise the answer is
   * stored under the key in the transaction that appends the events, so the key is recorded if
   * and only if they are, crash or not; a command that changes nothing still records its answer,
   * so every retry gets that same answer. A command that fails (a broken rule, 4xx) rolls back and
   * leaves the key unused: a corrected request may use it again.
   */
  async exclusiveWithAnswer(
    decide: (load: LockedLoad) => Promise<readonly StreamChange[]>,
    answer: (trx: Kysely<Database>, written: ReadonlyMap<string, AccountRow>) => Promise<AccountRecord>,
    context: CommandContext,
    idempotency?: IdempotencyKey,
  ): Promise<AccountRecord> {
    const outcome = await this.retrying(() =>
      this.db.transaction().execute(async (trx) => {
        if (idempotency) {
          await this.idempotency.lock(trx, idempotency);
          const original = await this.idempotency.find(trx, idempotency);
          if (original) return { committed: [], account: original };
        }
        const locked = new Set<string>();
        const written = await this.write(trx, await decide(this.lockedLoad(trx, locked)), context, locked);
        const account = await answer(trx, written.rows);
        // Last: the append must be the transaction's first write (no transaction id before its stream lock).
        if (idempotency) await this.idempotency.insert(trx, idempotency, account);
        return { committed: written.events, account };
      }),
    );
    this.wakeProjectors(outcome.committed);
    return outcome.account;
  }

  /** Records in `locked` the streams it has locked in `trx`. */
  private lockedLoad(trx: Kysely<Database>, locked: Set<string>): LockedLoad {
    return async (sid) => {
      const streamId = accountStreamId(sid);
      const events = await this.store.readStreamLocked(streamId, trx);
      locked.add(streamId);
      return foldRecorded(events);
    };
  }

  /**
   * Appends every change in one transaction and updates the read model in it; wakes the
   * projectors after the commit. For writes that need no locked read first (a new
   * main account; the owner cascade, whose follow-ups carry deterministic ids).
   *
   * `stillDue`, if given, decides last whether to write at all, on what it reads through its
   * LockedRead: the changed streams are locked first, then each stream it reads (the order the
   * handlers take them in: a subaccount before its owner), and all stay locked until the commit.
   * False: nothing is written.
   */
  async commit(
    changes: readonly StreamChange[],
    context: CommandContext,
    stillDue?: (read: LockedRead) => Promise<boolean>,
  ): Promise<CommittedAccountEvent[]> {
    if (!changes.some((c) => c.events.length > 0)) return [];
    const committed = (
      await this.db.transaction().execute(async (trx) => {
        if (!stillDue) return this.write(trx, changes, context);
        const locked = new Set<string>();
        for (const change of changes) {
          if (change.events.length === 0) continue;
          await this.store.lockStream(accountStreamId(change.sid), trx);
          locked.add(accountStreamId(change.sid));
        }
        const read: LockedRead = async (sid, afterVersion) => {
          const streamId = accountStreamId(sid);
          if (!locked.has(streamId)) await this.store.lockStream(streamId, trx);
          locked.add(streamId);
          return this.store.readStream(streamId, { fromVersion: afterVersion + 1 }, trx);
        };
        return (await stillDue(read)) ? this.write(trx, changes, context, locked) : NOTHING_WRITTEN;
      })
    ).events;
    this.wakeProjectors(committed);
    return committed;
  }

  /**
   * After a commit. Nothing is published on the Nest event bus: read models and the owner cascade
   * follow the stored feed, and a bus message nobody subscribes to is only a second, unchecked path.
   */
  private wakeProjectors(committed: readonly CommittedAccountEvent[]): void {
    if (committed.length > 0) this.store.committed();
  }

  /**
   * Every stream lock is taken before anything is written, so no transaction id is taken while
   * waiting and each stream's versions reach the feed in order. Those not yet held (`locked`:
   * what `exclusive` loaded) are taken together, in a fixed order so that multi-stream writes
   * cannot deadlock each other, except when the only one is also the first to be appended:
   * append_to_stream takes it before its first write (a creation appends its new sid first).
   */
  private async write(
    trx: Kysely<Database>,
    changes: readonly StreamChange[],
    context: CommandContext,
    locked: ReadonlySet<string> = new Set(),
  ): Promise<Written> {
    const pending = changes.filter((c) => c.events.length > 0);
    if (pending.length === 0) return NOTHING_WRITTEN;
    const metadata = eventMetadata(context);
    const unlocked = pending.map((c) => accountStreamId(c.sid)).filter((s) => !locked.has(s));
    if (unlocked.length > 1 || (unlocked.length === 1 && unlocked[0] !== accountStreamId(pending[0].sid))) {
      await sql`SELECT pg_advisory_xact_lock(h) FROM (
                  SELECT hashtextextended(s, 0) AS h FROM unnest(${unlocked}::text[]) AS s ORDER BY 1
                ) ordered`.execute(trx);
    }
    const written: CommittedAccountEvent[] = [];
    for (const change of pending) {
      const streamId = accountStreamId(change.sid);
      const newEvents = change.events.map((event, i) => ({
        eventId: change.eventIds?.[i] ?? crypto.randomUUID(),
        type: event.type,
        schemaVersion: SCHEMA_VERSION[event.type],
        data: event.data as Record<string, unknown>,
        metadata,
      }));
      const result = await this.store.append(streamId, newEvents, change.expected, trx);
      if (!result.written) continue;
      const base = result.nextVersion - newEvents.length;
      newEvents.forEach((e, i) =>
        written.push({ eventId: e.eventId, streamId, streamVersion: base + i + 1, type: e.type, data: e.data, recordedAt: result.recordedAt! }),
      );
    }
    return { events: written, rows: written.length ? await this.readModel.apply(trx, written) : new Map() };
  }

  /** Load → decide → commit on one stream: the shape of the operator commands. */
  async decideOn(sid: string, decide: (state: AccountState) => readonly AccountEvent[], context: CommandContext): Promise<void> {
    await this.exclusive(async (load) => {
      const state = await load(sid);
      return [{ sid, expected: state?.version ?? 'no_stream', events: decide(state) }];
    }, context);
  }

  /**
   * Runs `attempt` again, against fresh state, when another writer got there first (a writer
   * that did not lock, such as the owner cascade; or one that stored the same idempotency key).
   * Conflicts never reach the caller while attempts last.
   */
  async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (error) {
        const conflict = error instanceof WrongExpectedVersionError || error instanceof IdempotencyKeyTakenError;
        if (!conflict || i >= MAX_ATTEMPTS) throw error;
        await new Promise((r) => setTimeout(r, Math.random() * 2 * i));
      }
    }
  }
}

function foldRecorded(events: readonly RecordedEvent[]): AccountState {
  return fold(events.map((e) => ({ type: e.type, data: e.data, recordedAt: e.recordedAt, streamVersion: e.streamVersion }) as never));
}
