import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { CommandTransaction, EventStore, type CommandStream, type RowWrite } from '@accountable/event-store';
import { DB } from '@accountable/platform';
import { ACCOUNT_STREAM_PREFIX, accountStreamId, fold, SCHEMA_VERSION, type AccountEvent, type AccountState } from '../domain';
import type { AccountRecord } from '../read-models/account/account.reader';
import { accountOfRow, evolveAccountRow, type AccountSnapshotRow } from '../read-models/account/account.snapshot';
import { eventMetadata, type CommandContext } from './command-context';
import { IDEMPOTENCY_KEY_LIFETIME, IdempotencyStore, type IdempotencyKey, type StoredIdempotencyRow } from './idempotency.store';

/** The events a decision appends to one account's stream. */
export interface AccountChange {
  sid: string;
  events: readonly AccountEvent[];
  /** Deterministic ids make a re-run (a cascade after a crash) find what it already stored. */
  eventIds?: readonly string[];
}

/** The accounts as a command read them (null: no such account), and the time its events will carry. */
export interface AccountsRead {
  get(sid: string): AccountState;
  readonly at: Date;
}

export interface AccountDecision<T> {
  changes: readonly AccountChange[];
  /** The command's result, from the accounts as its events leave them. */
  result: (after: AccountsRead) => T;
}

/**
 * One command on accounts: what it reads, how it decides. `decide` gets the read accounts and the
 * executor of the attempt (for a read the account snapshots do not hold; the owner cascade reads
 * the owner's later events). It runs again, on a fresh read, when another writer got there first.
 */
export interface AccountCommand<T> {
  /** The accounts the decision rests on: their versions are checked at the commit even if it writes none of them. */
  reads: readonly string[];
  /** Read each account's owner too, in the same statement (a subaccount's status change rests on it). */
  owners?: boolean;
  context: CommandContext;
  /** This request's read of these accounts, made ahead (AccountRepository.readAhead): the first attempt's read. */
  readAhead?: AccountsReadAhead;
  /** The answer is stored under the key with the events, and a retry under it gets that answer. */
  idempotency?: T extends AccountRecord ? IdempotencyKey : never;
  decide(accounts: AccountsRead, executor: Kysely<Database>): AccountDecision<T> | Promise<AccountDecision<T>>;
}

/** An account as its row and its stream say; `exact`: the row is at the stream's version. */
interface ReadAccount {
  state: AccountState;
  row: AccountSnapshotRow | null;
  exact: boolean;
}

/**
 * Accounts read ahead of a command (AccountRepository.readAhead): `rows` hold each account's
 * read-model row as authentication needs it (row(): the credentials, the status).
 */
export interface AccountsReadAhead {
  readonly reads: readonly string[];
  readonly owners: boolean;
  readonly rows: readonly SnapshotRow[];
}

/** The row of `sid` in what was read ahead; undefined: not read, or no such account. */
export function rowReadAhead(ahead: AccountsReadAhead, sid: string): AccountSnapshotRow | undefined {
  const row = ahead.rows.find((r) => r.wanted === sid && r.sid != null);
  return row as AccountSnapshotRow | undefined;
}

function covers(ahead: AccountsReadAhead, reads: readonly string[], owners: boolean, key: IdempotencyKey | undefined): boolean {
  return key === undefined && (!owners || ahead.owners) && reads.every((sid) => ahead.reads.includes(sid));
}

interface SnapshotRow extends Partial<AccountSnapshotRow> {
  wanted: string | null;
  stream_version: number | null;
  api_keys: Record<string, string | null> | null;
  at: Date;
  request_hash: string | null;
  response: string | null;
}

/**
 * Accounts on the generic command transaction (libs/event-store): reads an account as its
 * read-model row (an exact snapshot at the stream's version, with its API keys), never folding a
 * stream that grows with every subaccount; computes with the domain's `evolve` the state, and so
 * the rows, its events leave; hands one commit to CommandTransaction.
 */
@Injectable()
export class AccountRepository {
  private readonly transaction: CommandTransaction;

  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    private readonly idempotency: IdempotencyStore,
  ) {
    this.transaction = new CommandTransaction(db, store);
  }

  /** The one entry point: read, decide, commit (all or nothing), again on a conflict. */
  async execute<T>(command: AccountCommand<T>): Promise<T> {
    const key = command.idempotency as IdempotencyKey | undefined;
    const owners = command.owners === true;
    // What was read ahead serves the first attempt only: a conflict means it has changed.
    let ahead = command.readAhead && covers(command.readAhead, command.reads, owners, key) ? command.readAhead : undefined;
    return this.transaction.run(async (executor) => {
      const snapshot = ahead?.rows ?? (await this.readRows(executor, command.reads, owners, key));
      ahead = undefined;
      const read = await this.resolve(executor, snapshot, key);
      if (read.answer) return { write: null, result: read.answer as T };
      const accounts: AccountsRead = { at: read.at, get: (sid) => read.accounts.get(sid)?.state ?? null };
      const decision = await command.decide(accounts, executor);

      const after = new Map<string, AccountState>();
      const streams = new Map<string, CommandStream>();
      const rows: RowWrite[] = [];
      const metadata = eventMetadata(command.context);
      for (const change of decision.changes) {
        if (change.events.length === 0) continue;
        const before = read.accounts.get(change.sid) ?? { state: null, row: null, exact: true };
        // Each event's effect on the state, the row and api_keys: evolveAccountRow, as the projection applies it.
        let state = before.state;
        let row: AccountSnapshotRow | null = null;
        const keyWrites: RowWrite[] = [];
        for (const event of change.events) {
          const step = evolveAccountRow(state, { ...event, recordedAt: read.at });
          ({ state, row } = step);
          if (step.apiKey) keyWrites.push({ table: 'api_keys', ...step.apiKey });
        }
        after.set(change.sid, state);
        streams.set(change.sid, {
          streamId: accountStreamId(change.sid),
          expectedVersion: before.state?.version ?? 0,
          events: change.events.map((event, i) => ({
            eventId: change.eventIds?.[i],
            type: event.type,
            schemaVersion: SCHEMA_VERSION[event.type],
            data: event.data as Record<string, unknown>,
            metadata,
          })),
        });
        // Read-your-writes: the row, and its API keys, as these events leave them. A row behind its
        // stream (never, while every command writes here) is left to the projection, which applies
        // what it lacks in order.
        if (!before.exact) continue;
        rows.push({ table: 'account_read_model', match: before.row ? { sid: change.sid, version: before.row.version } : null, row: row! }, ...keyWrites);
      }
      // Every account the command reads, written or not: the decision rests on it as read. After
      // the written ones, whose order (a creation's new stream first) is their events' in the log.
      const owned = owners ? command.reads.map((sid) => read.accounts.get(sid)?.state?.ownerAccountSid) : [];
      for (const sid of [...command.reads, ...owned]) {
        if (sid === undefined || streams.has(sid)) continue;
        streams.set(sid, { streamId: accountStreamId(sid), expectedVersion: read.accounts.get(sid)?.state?.version ?? 0, events: [] });
      }
      const result = decision.result({ at: read.at, get: (sid) => (after.has(sid) ? after.get(sid)! : accounts.get(sid)) });
      const answer = command.idempotency ? this.idempotency.toStore(command.idempotency, result as AccountRecord) : undefined;
      const writes = [...streams.values()];
      if (!writes.some((s) => s.events.length > 0) && !answer) return { write: null, result };
      return { write: { streams: writes, recordedAt: read.at, rows, answer }, result };
    });
  }

  /**
   * A command's read, made ahead of it by whoever reads these accounts anyway (authentication,
   * in the statement it makes for the caller's credentials): hand it to `execute` as `readAhead`,
   * for the same request, and the command does not read again. Without an idempotency key only.
   */
  async readAhead(reads: readonly string[], owners: boolean): Promise<AccountsReadAhead> {
    return { reads: [...reads], owners, rows: await this.readRows(this.db, reads, owners, undefined) };
  }

  /**
   * One statement: each account's row with its stream's version and its API keys (and with
   * `owners`, each one's owner's), the live answer under the idempotency key, and the time the
   * command's events will carry: the database's clock, never before the last event of a stream
   * read, rounded up to the millisecond that JavaScript dates and the rows hold.
   */
  private async readRows(executor: Kysely<Database>, reads: readonly string[], owners: boolean, key: IdempotencyKey | undefined): Promise<SnapshotRow[]> {
    const { rows } = await sql<SnapshotRow>`
      WITH asked AS (SELECT DISTINCT unnest(${[...reads]}::text[]) AS sid),
      wanted AS (
        SELECT sid FROM asked
        UNION SELECT r.owner_account_sid FROM account_read_model r JOIN asked a ON a.sid = r.sid WHERE ${owners}
      )
      SELECT w.sid AS wanted, r.*, s.version AS stream_version,
             (SELECT jsonb_object_agg(k.sid, k.friendly_name) FROM api_keys k WHERE k.account_sid = w.sid) AS api_keys,
             date_trunc('milliseconds', greatest(c.now, s.updated_at) + interval '999 microseconds') AS at,
             ik.request_hash, ik.response
        FROM (SELECT clock_timestamp() AS now) c
        LEFT JOIN wanted w ON true
        LEFT JOIN account_read_model r ON r.sid = w.sid
        LEFT JOIN streams s ON s.stream_id = ${ACCOUNT_STREAM_PREFIX} || w.sid
        LEFT JOIN idempotency_keys ik ON ik.account_sid = ${key?.accountSid ?? null} AND ik.key = ${key?.key ?? null}
                                     AND ik.created_at > now() - ${IDEMPOTENCY_KEY_LIFETIME}::interval`.execute(executor);
    return rows;
  }

  private async resolve(executor: Kysely<Database>, rows: readonly SnapshotRow[], key: IdempotencyKey | undefined) {
    const at = new Date(Math.max(...rows.map((row) => row.at.getTime())));
    const stored = rows[0].request_hash !== null ? (rows[0] as StoredIdempotencyRow) : null;
    const answer = key && stored ? this.idempotency.answerOf(key, stored) : null;
    const accounts = new Map<string, ReadAccount>();
    for (const row of rows) {
      if (row.wanted === null) continue;
      accounts.set(row.wanted, await this.account(executor, row));
    }
    return { at, answer, accounts };
  }

  /** The row's state when it is at its stream's version; else (a row behind, or none) the stream folded. */
  private async account(executor: Kysely<Database>, read: SnapshotRow): Promise<ReadAccount> {
    const row = read.sid !== null && read.sid !== undefined ? (read as unknown as AccountSnapshotRow) : null;
    if (read.stream_version === null) return { state: null, row, exact: row === null };
    if (row && row.version === read.stream_version) return { state: accountOfRow(row, read.api_keys ?? {}), row, exact: true };
    const events = await this.store.readStream(accountStreamId(read.wanted!), {}, executor);
    const state = fold(events.map((e) => ({ type: e.type, data: e.data, recordedAt: e.recordedAt, streamVersion: e.streamVersion }) as never));
    return { state, row, exact: false };
  }
}

/** The shape of most commands: one account decided on as read; the result is the account as its events leave it. */
export function onAccount(sid: string, context: CommandContext, decide: (state: AccountState) => readonly AccountEvent[]): AccountCommand<AccountState> {
  return {
    reads: [sid],
    context,
    decide: (accounts) => ({ changes: [{ sid, events: decide(accounts.get(sid)) }], result: (after) => after.get(sid) }),
  };
}
