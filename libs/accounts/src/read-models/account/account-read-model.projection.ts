import { sql, type Insertable, type Kysely, type RawBuilder, type Selectable, type Transaction, type UpdateObject } from 'kysely';
import type { AccountReadModelTable, ApiKeysTable, Database } from '@accountable/database';
import {
  ACCOUNT_STREAM_PREFIX,
  AccountEventType,
  SCHEMA_VERSION,
  isAccountEvent,
  type AccountEvent,
  type MainAccountCreated,
  type SubaccountCreated,
} from '../../domain';
import type { FeedPosition, Projection } from '@accountable/event-store';
import { apiKeyRowChange } from './account.snapshot';

/** The minimum the read model needs of an event; `recordedAt` is the event's stored time. */
export interface AccountReadModelInput {
  streamId: string;
  streamVersion: number;
  type: string;
  data: Record<string, unknown>;
  recordedAt: Date;
}

export class ReadModelDriftError extends Error {
  override readonly name = 'ReadModelDriftError';
}

/**
 * Applies one account event to `account_read_model`. Every statement is guarded by the stream
 * version (the row must be at version - 1), so applying an event twice changes nothing: the
 * command's inline write and the feed-driven projection can both run it, in either order.
 */
export async function applyAccountEvent(executor: Kysely<Database>, event: AccountReadModelInput): Promise<Row | undefined> {
  if (!isAccountEvent(event) || !event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) return undefined;
  const sid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
  const v = event.streamVersion;
  // Truncated to milliseconds: the precision of JavaScript dates and of page tokens.
  const at = sql<Date>`date_trunc('milliseconds', ${event.recordedAt}::timestamptz)`;

  if (event.type === AccountEventType.MainAccountCreated || event.type === AccountEventType.SubaccountCreated) {
    return executor
      .insertInto('account_read_model')
      .values(createdRow(sid, event, at, v))
      .onConflict((oc) => oc.column('sid').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  const updated = await executor
    .updateTable('account_read_model')
    .set({ ...rowUpdateOf(event, at), version: v })
    .where('sid', '=', sid)
    .where('version', '=', v - 1)
    .returningAll()
    .executeTakeFirst();
  if (updated) {
    // Behind the account row's guard: a key write happens exactly when its version step does.
    await applyApiKeyEvent(executor, sid, event, event.recordedAt);
    return updated;
  }
  const row = await executor.selectFrom('account_read_model').select('version').where('sid', '=', sid).executeTakeFirst();
  if (row && row.version >= v) return undefined; // already applied (inline, or a previous delivery)
  throw new ReadModelDriftError(`account ${sid}: read model at version ${row?.version ?? 'none'}, event at ${v}`);
}

type UpdateEvent = Exclude<AccountEvent, MainAccountCreated | SubaccountCreated>;

/**
 * The columns an event other than a creation sets, as applyAccountEvent writes them (`at`: the
 * event's time, as SQL). Exported for the spec that walks every event type.
 */
export function rowUpdateOf(event: UpdateEvent, at: RawBuilder<Date>): UpdateObject<Database, 'account_read_model'> {
  switch (event.type) {
    case AccountEventType.SubaccountAdded:
      return { open_subaccounts: sql`open_subaccounts + 1` };
    case AccountEventType.SubaccountReleased:
      return { open_subaccounts: sql`greatest(open_subaccounts - 1, 0)` };
    case AccountEventType.AccountRenamed:
      return { friendly_name: event.data.friendlyName, date_updated: at };
    case AccountEventType.AccountStatusChanged:
      return {
        status: event.data.status,
        suspended_by_owner: event.data.status === 'suspended' && event.data.reason === 'owner_suspended',
        date_updated: at,
      };
    case AccountEventType.AccountUpgraded:
      return { type: event.data.type, date_updated: at };
    case AccountEventType.SecondaryAuthTokenCreated:
      return { secondary_auth_token: event.data.authToken };
    case AccountEventType.SecondaryAuthTokenDeleted:
      return { secondary_auth_token: null };
    // The row's own secondary moves: the event carries no token (evolve does the same).
    case AccountEventType.AuthTokenPromoted:
      return { auth_token: sql`coalesce(secondary_auth_token, auth_token)`, secondary_auth_token: null, date_updated: at };
    // Key events move only the version: their row is api_keys' (applyApiKeyEvent).
    case AccountEventType.ApiKeyCreated:
    case AccountEventType.ApiKeyRenamed:
    case AccountEventType.ApiKeyDeleted:
      return {};
  }
}

/** The api_keys side of a key event (the account row only moves its version): apiKeyRowChange says what. */
async function applyApiKeyEvent(executor: Kysely<Database>, accountSid: string, event: AccountEvent, recordedAt: Date): Promise<void> {
  const change = apiKeyRowChange(accountSid, event, recordedAt);
  if (!change) return;
  if (change.match === null) {
    await executor.insertInto('api_keys').values(change.row as Insertable<ApiKeysTable>).execute();
  } else if (change.row === null) {
    await executor.deleteFrom('api_keys').where('sid', '=', change.match.sid).where('account_sid', '=', change.match.account_sid).execute();
  } else {
    await executor.updateTable('api_keys').set(change.row).where('sid', '=', change.match.sid).where('account_sid', '=', change.match.account_sid).execute();
  }
}

export type Row = Selectable<AccountReadModelTable>;
const T = AccountEventType;

/**
 * The types evolveRow leaves to applyAccountEvent: a batch holding one applies its account event
 * by event. Key events write api_keys, which the batch statements do not carry.
 */
export const BATCH_LEAVES_TO_APPLY: readonly AccountEventType[] = [
  T.ApiKeyCreated,
  T.ApiKeyRenamed,
  T.ApiKeyDeleted,
  // The token columns, which the batch statements do not carry either.
  T.SecondaryAuthTokenCreated,
  T.SecondaryAuthTokenDeleted,
  T.AuthTokenPromoted,
];

/**
 * `row` after `event`, by the rules of applyAccountEvent's statements: a creation inserts unless
 * the row exists; any other event applies only on top of version - 1 and is skipped once applied.
 * `undefined` when applyAccountEvent would raise ReadModelDriftError: the caller leaves that
 * account to applyAccountEvent.
 */
export function evolveRow(row: Row | null, sid: string, event: AccountReadModelInput): Row | null | undefined {
  const v = event.streamVersion;
  const at = event.recordedAt;
  if (!isAccountEvent(event)) return undefined;
  if (event.type === AccountEventType.MainAccountCreated || event.type === AccountEventType.SubaccountCreated) {
    if (row) return row;
    return createdRow(sid, event, at, v);
  }
  if (row && row.version >= v) return row;
  if (!row || row.version !== v - 1) return undefined;
  switch (event.type) {
    case AccountEventType.SubaccountAdded:
      return { ...row, version: v, open_subaccounts: row.open_subaccounts + 1 };
    case AccountEventType.SubaccountReleased:
      return { ...row, version: v, open_subaccounts: Math.max(row.open_subaccounts - 1, 0) };
    case AccountEventType.AccountRenamed:
      return { ...row, version: v, friendly_name: event.data.friendlyName, date_updated: at };
    case AccountEventType.AccountStatusChanged:
      return {
        ...row,
        version: v,
        status: event.data.status,
        suspended_by_owner: event.data.status === 'suspended' && event.data.reason === 'owner_suspended',
        date_updated: at,
      };
    case AccountEventType.AccountUpgraded:
      return { ...row, version: v, type: event.data.type, date_updated: at };
    // They write api_keys, or the token columns the batch statements do not carry: left to applyAccountEvent.
    case AccountEventType.SecondaryAuthTokenCreated:
    case AccountEventType.SecondaryAuthTokenDeleted:
    case AccountEventType.AuthTokenPromoted:
    case AccountEventType.ApiKeyCreated:
    case AccountEventType.ApiKeyRenamed:
    case AccountEventType.ApiKeyDeleted:
      return undefined;
  }
}

const ROW_COLUMNS = [
  'sid',
  'owner_account_sid',
  'is_main',
  'friendly_name',
  'type',
  'status',
  'auth_token',
  'suspended_by_owner',
  'open_subaccounts',
  'date_created',
  'date_updated',
  'version',
] as const satisfies readonly (keyof Row)[];

/**
 * `rows` as the table `r`, each with `from_version` (for an update, the version it was folded
 * from), sent as one array per column: thirteen parameters whatever the batch size, where a
 * multi-row VALUES takes twelve a row and meets PostgreSQL's limit of 65,535.
 */
function unnestRows(rows: readonly Row[], fromVersions: readonly (number | null)[] = rows.map(() => null)) {
  const column = <K extends keyof Row>(name: K) => rows.map((row) => row[name]);
  return sql<Row & { from_version: number | null }>`unnest(
      ${column('sid')}::text[], ${column('owner_account_sid')}::text[], ${column('is_main')}::boolean[], ${column('friendly_name')}::text[],
      ${column('type')}::text[], ${column('status')}::text[], ${column('auth_token')}::text[], ${column('suspended_by_owner')}::boolean[],
      ${column('open_subaccounts')}::integer[], ${column('date_created')}::timestamptz[], ${column('date_updated')}::timestamptz[],
      ${column('version')}::bigint[], ${fromVersions}::bigint[])`.as<'r'>(sql`r(${sql.join(ROW_COLUMNS.map((name) => sql.id(name)))}, from_version)`);
}

/**
 * The event types the rebuild's SQL load (loadRange) knows, each with the data fields it reads
 * (each must be a JSON string). A range holding any other type is declined and takes the batch
 * path (`apply`), so a new event type is never silently skipped by a rebuild;
 * every-account-event-type.spec.ts fails until it is listed here and taught to loadRange.
 */
export const SQL_LOADED_FIELDS: Partial<Record<AccountEventType, readonly string[]>> = {
  [AccountEventType.MainAccountCreated]: ['friendlyName', 'type', 'authToken'],
  [AccountEventType.SubaccountCreated]: ['friendlyName', 'type', 'authToken', 'ownerAccountSid'],
  [AccountEventType.SubaccountAdded]: [],
  [AccountEventType.SubaccountReleased]: [],
  [AccountEventType.AccountRenamed]: ['friendlyName'],
  [AccountEventType.AccountStatusChanged]: ['status'],
  [AccountEventType.AccountUpgraded]: ['type'],
};

/** Declined by the SQL load on purpose (the batch path applies them): api_keys and the token columns are not loaded in SQL. */
export const SQL_DECLINED: readonly AccountEventType[] = [
  T.ApiKeyCreated,
  T.ApiKeyRenamed,
  T.ApiKeyDeleted,
  T.SecondaryAuthTokenCreated,
  T.SecondaryAuthTokenDeleted,
  T.AuthTokenPromoted,
];

/** Feeds `account_read_model` from the global feed (catch-up, rebuild, and any write not made inline). */
export class AccountReadModelProjection implements Projection {
  readonly name = 'accounts';
  readonly tables = ['account_read_model', 'api_keys'];

  /**
   * The same result as applyAccountEvent for each event in turn, in a few statements per batch
   * instead of one or two per event: read the batch's rows, fold each account's events in
   * memory, insert the new rows in one statement, update the changed rows in another. Every write is
   * guarded by the version it was folded from, so a row changed meanwhile (a command's inline
   * write) is not overwritten; such accounts, and any that would drift, go through
   * applyAccountEvent event by event, which raises the drift as before.
   */
  async apply(trx: Transaction<Database>, events: readonly { streamId: string; streamVersion: number; type: string; data: Record<string, unknown>; recordedAt: Date }[]): Promise<void> {
    const bySid = new Map<string, AccountReadModelInput[]>();
    for (const event of events) {
      if (!isAccountEvent(event) || !event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) continue;
      const sid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
      const list = bySid.get(sid);
      if (list) list.push(event);
      else bySid.set(sid, [event]);
    }
    if (bySid.size === 0) return;

    const stored = new Map<string, Row>();
    for (const row of await trx
      .selectFrom('account_read_model')
      .selectAll()
      .where((eb) => eb('sid', '=', eb.fn.any(eb.val([...bySid.keys()]))))
      .execute()) {
      stored.set(row.sid, row);
    }
    const inserts: Row[] = [];
    const updates: { row: Row; from: number }[] = [];
    const oneByOne = new Set<string>();
    for (const [sid, list] of bySid) {
      const before = stored.get(sid) ?? null;
      let row: Row | null | undefined = before;
      for (const event of list) {
        row = evolveRow(row, sid, event);
        if (row === undefined) break;
      }
      if (row === undefined) oneByOne.add(sid);
      else if (row && !before) inserts.push(row);
      else if (row && before && row.version !== before.version) updates.push({ row, from: before.version });
    }

    if (inserts.length > 0) {
      const written = await trx
        .insertInto('account_read_model')
        .columns(ROW_COLUMNS)
        .expression((eb) => eb.selectFrom(unnestRows(inserts)).select(ROW_COLUMNS))
        .onConflict((oc) => oc.column('sid').doNothing())
        .returning('sid')
        .execute();
      const done = new Set(written.map((r) => r.sid));
      for (const row of inserts) if (!done.has(row.sid)) oneByOne.add(row.sid);
    }
    if (updates.length > 0) {
      const written = await trx
        .updateTable('account_read_model')
        .from(unnestRows(updates.map((u) => u.row), updates.map((u) => u.from)))
        .set((eb) => ({
          friendly_name: eb.ref('r.friendly_name'),
          type: eb.ref('r.type'),
          status: eb.ref('r.status'),
          suspended_by_owner: eb.ref('r.suspended_by_owner'),
          open_subaccounts: eb.ref('r.open_subaccounts'),
          date_updated: eb.ref('r.date_updated'),
          version: eb.ref('r.version'),
        }))
        .whereRef('account_read_model.sid', '=', 'r.sid')
        .whereRef('account_read_model.version', '=', 'r.from_version')
        .returning('account_read_model.sid')
        .execute();
      const done = new Set(written.map((r) => r.sid));
      for (const { row } of updates) if (!done.has(row.sid)) oneByOne.add(row.sid);
    }
    for (const [sid, list] of bySid) {
      if (oneByOne.has(sid)) for (const event of list) await applyAccountEvent(trx, event);
    }
  }

  /**
   * A rebuild's load of the feed range (after, until] into `schema`'s account_read_model, in SQL:
   * one INSERT ... SELECT from `events`, each account's row folded from its events by aggregates,
   * no rows through this process. `evolveRow` stays the definition: this says the same for
   * accounts whose events in the range are all of the current schema version with the shapes the
   * contract gives the fields read, and run 1, 2, ... n from the creation in version order (which
   * is their feed order), none of which has a row in the table yet. The same statement checks
   * that first and, for any other range, writes nothing and returns null: the caller then applies
   * the range through `apply`, which also raises what the batch path raises (a gap, an update
   * without its creation: ReadModelDriftError). The shadow table is private to the rebuild and
   * the range is delivered once, so no ON CONFLICT. test/projections/accounts-rebuild-sql.int.spec.ts
   * holds the two equal. Returns the number of feed events in the range.
   */
  async loadRange(db: Kysely<Database>, schema: string, after: FeedPosition, until: FeedPosition): Promise<number | null> {
    const prefix = ACCOUNT_STREAM_PREFIX;
    const range = sql`(e.transaction_id, e.global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)
          AND (e.transaction_id, e.global_position) <= (${until.transactionId}::xid8, ${until.globalPosition}::bigint)`;
    const target = sql.id(schema, 'account_read_model');
    const isString = (path: string) => sql`jsonb_typeof(e.data -> ${path}) = 'string'`;
    // Per account, the version of the last event that sets each group of fields: its values are the row's.
    const creations = [T.MainAccountCreated, T.SubaccountCreated];
    const setBy = {
      last_named: [...creations, T.AccountRenamed],
      last_typed: [...creations, T.AccountUpgraded],
      last_status: [T.AccountStatusChanged],
      last_updated: [...creations, T.AccountRenamed, T.AccountStatusChanged, T.AccountUpgraded],
    };
    const { rows } = await sql<{ events: string; faithful: boolean }>`
      WITH seen AS (
        SELECT e.stream_id, e.stream_version AS v, e.transaction_id, e.global_position, e.type,
               coalesce(
                 e.schema_version = CASE e.type ${sql.join(
                   Object.values(T).map((type) => sql`WHEN ${type} THEN ${SCHEMA_VERSION[type]}::int`),
                   sql` `,
                 )} END
                 AND CASE e.type ${sql.join(
                   Object.entries(SQL_LOADED_FIELDS).map(
                     ([type, fields]) => sql`WHEN ${type} THEN ${fields!.length > 0 ? sql.join(fields!.map(isString), sql` AND `) : sql`true`}`,
                   ),
                   sql` `,
                 )} ELSE false END, false) AS readable,
               e.data ->> 'friendlyName' AS friendly_name, e.data ->> 'type' AS account_type, e.data ->> 'authToken' AS auth_token,
               e.data ->> 'ownerAccountSid' AS owner_account_sid, e.data ->> 'status' AS status,
               -- evolveRow's status === 'suspended' && reason === 'owner_suspended', for a reason of any JSON type or none.
               coalesce(e.data -> 'status' = '"suspended"'::jsonb AND e.data -> 'reason' = '"owner_suspended"'::jsonb, false) AS suspended_by_owner,
               CASE e.type WHEN ${T.SubaccountAdded} THEN 1 WHEN ${T.SubaccountReleased} THEN -1 ELSE 0 END AS step,
               date_trunc('milliseconds', e.recorded_at) AS recorded_at
          FROM events e
         WHERE ${range} AND left(e.stream_id, ${prefix.length}) = ${prefix} AND e.type = ANY(${Object.values(T)}::text[])
      ), ordered AS (
        SELECT seen.*, row_number() OVER w AS n, sum(step) OVER w AS balance,
               lag(transaction_id) OVER w AS previous_transaction, lag(global_position) OVER w AS previous_position,
               ${sql.join(Object.entries(setBy).map(([name, types]) => sql`max(v) FILTER (WHERE type = ANY(${types}::text[])) OVER account AS ${sql.id(name)}`))}
          FROM seen
        WINDOW account AS (PARTITION BY stream_id), w AS (account ORDER BY v)
      ), accounts AS (
        SELECT substr(stream_id, ${prefix.length + 1}) AS sid,
               bool_and(readable AND n = v AND (v = 1) = (type = ANY(${creations}::text[]))
                        AND (n = 1 OR (previous_transaction, previous_position) < (transaction_id, global_position))) AS faithful,
               bool_or(type = ${T.MainAccountCreated}) AS is_main,
               min(owner_account_sid) FILTER (WHERE v = 1) AS owner_account_sid,
               min(friendly_name) FILTER (WHERE v = last_named) AS friendly_name,
               min(account_type) FILTER (WHERE v = last_typed) AS type,
               coalesce(min(status) FILTER (WHERE v = last_status), 'active') AS status,
               min(auth_token) FILTER (WHERE v = 1) AS auth_token,
               coalesce(bool_or(suspended_by_owner) FILTER (WHERE v = last_status), false) AS suspended_by_owner,
               -- greatest(open_subaccounts - 1, 0) at each step, from 0: the running sum less its lowest point below 0.
               sum(step) - least(min(balance), 0) AS open_subaccounts,
               min(recorded_at) FILTER (WHERE v = 1) AS date_created,
               min(recorded_at) FILTER (WHERE v = last_updated) AS date_updated,
               max(v) AS version
          FROM ordered
         GROUP BY stream_id
      ), verdict AS (
        SELECT coalesce(bool_and(faithful), true) AND NOT EXISTS (SELECT 1 FROM ${target} r WHERE r.sid IN (SELECT sid FROM accounts)) AS faithful
          FROM accounts
      ), written AS (
        INSERT INTO ${target} (${sql.join(ROW_COLUMNS.map((name) => sql.id(name)))})
        SELECT sid, CASE WHEN is_main THEN sid ELSE owner_account_sid END, is_main, friendly_name, type, status, auth_token, suspended_by_owner,
               open_subaccounts, date_created, date_updated, version
          FROM accounts
         WHERE (SELECT faithful FROM verdict)
      )
      SELECT (SELECT faithful FROM verdict) AS faithful, (SELECT count(*) FROM events e WHERE ${range}) AS events`.execute(db);
    return rows[0].faithful ? Number(rows[0].events) : null;
  }

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('account_read_model').execute();
    await trx.deleteFrom('api_keys').execute();
  }
}

/** The row an account's creation event makes; `at` is a Date or SQL for one. */
function createdRow<At>(sid: string, event: MainAccountCreated | SubaccountCreated, at: At, v: number) {
  const d = event.data;
  return {
    sid,
    owner_account_sid: event.type === AccountEventType.SubaccountCreated ? event.data.ownerAccountSid : sid,
    is_main: event.type === AccountEventType.MainAccountCreated,
    friendly_name: d.friendlyName,
    type: d.type,
    status: 'active',
    auth_token: d.authToken,
    secondary_auth_token: null,
    suspended_by_owner: false,
    open_subaccounts: 0,
    date_created: at,
    date_updated: at,
    version: v,
  };
}
