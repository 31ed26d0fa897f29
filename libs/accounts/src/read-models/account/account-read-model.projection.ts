import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AccountReadModelTable, ApiKeysTable, Database } from '@accountable/database';
import { ACCOUNT_STREAM_PREFIX, AccountEventType, SCHEMA_VERSION, isAccountEvent, type AccountEvent, type AccountState } from '../../domain';
import type { FeedPosition, Projection, RecordedEvent } from '@accountable/event-store';
import { accountOfRow, evolveAccountRow, type ApiKeyRowChange } from './account.snapshot';

/**
 * What the rebuild's SQL load (loadRange) does with each event type: loads it, reading these
 * data fields (each must be a JSON string), or declines it. A Record over every type, so a new
 * one does not compile until it is given one; and a range holding a type not loaded here (one
 * declined, or any type this version does not know) is declined whole and takes the batch path
 * (`apply`), so no event is ever silently skipped by a rebuild.
 * test/projections/sql-load-every-event-type.int.spec.ts holds each loaded type to evolveAccountRow.
 */
export const ACCOUNT_SQL_LOAD = {
  MainAccountCreated: ['sid', 'friendlyName', 'type', 'authToken'],
  SubaccountCreated: ['sid', 'friendlyName', 'type', 'authToken', 'ownerAccountSid'],
  SubaccountAdded: [],
  SubaccountReleased: [],
  AccountRenamed: ['friendlyName'],
  AccountStatusChanged: ['status'],
  AccountUpgraded: ['type'],
  // api_keys and the token columns are not loaded in SQL: rare, and theirs is evolveAccountRow's alone.
  ApiKeyCreated: 'declined',
  ApiKeyRenamed: 'declined',
  ApiKeyDeleted: 'declined',
  SecondaryAuthTokenCreated: 'declined',
  SecondaryAuthTokenDeleted: 'declined',
  AuthTokenPromoted: 'declined',
} satisfies Record<AccountEventType, readonly string[] | 'declined'> as Record<string, readonly string[] | 'declined' | undefined>;

export class ReadModelDriftError extends Error {
  override readonly name = 'ReadModelDriftError';
}

export type Row = Selectable<AccountReadModelTable>;
type ApiKeyRow = Selectable<ApiKeysTable>;
type StoredEvent = Pick<RecordedEvent, 'streamId' | 'streamVersion' | 'type' | 'data' | 'recordedAt'>;
const T = AccountEventType;
const isCreation = (type: string) => type === T.MainAccountCreated || type === T.SubaccountCreated;

/** Each column's SQL type, for the arrays a batch is sent as: a new column does not compile until it is here. */
const ROW_TYPES = {
  sid: 'text',
  owner_account_sid: 'text',
  is_main: 'boolean',
  friendly_name: 'text',
  type: 'text',
  status: 'text',
  auth_token: 'text',
  secondary_auth_token: 'text',
  suspended_by_owner: 'boolean',
  open_subaccounts: 'integer',
  date_created: 'timestamptz',
  date_updated: 'timestamptz',
  version: 'bigint',
} as const satisfies Record<keyof Row, string>;
const ROW_COLUMNS = Object.keys(ROW_TYPES) as (keyof Row)[];

const API_KEY_TYPES = {
  sid: 'text',
  account_sid: 'text',
  friendly_name: 'text',
  secret_verifier: 'text',
  date_created: 'timestamptz',
  date_updated: 'timestamptz',
} as const satisfies Record<keyof ApiKeyRow, string>;

/**
 * `rows` as the table `alias`, sent as one array per column: a parameter per column whatever the
 * batch size, where a multi-row VALUES takes one per value and meets PostgreSQL's limit of 65,535.
 */
function unnest<R extends object>(types: Partial<Record<keyof R & string, string>>, rows: readonly R[], alias: string, extra: Record<string, { type: string; values: unknown[] }> = {}) {
  const columns = [
    ...Object.entries(types).map(([name, type]) => ({ name, type: type as string, values: rows.map((row) => row[name as keyof R] as unknown) })),
    ...Object.entries(extra).map(([name, { type, values }]) => ({ name, type, values })),
  ];
  return sql`unnest(${sql.join(columns.map((c) => sql`${c.values}::${sql.raw(c.type)}[]`))})`.as<string>(
    sql`${sql.id(alias)}(${sql.join(columns.map((c) => sql.id(c.name)))})`,
  ) as never;
}

/** One account's writes from a batch: its row (`from`: the version it was folded from, null: new) and its api_keys writes, in order. */
interface AccountWrite {
  sid: string;
  from: number | null;
  row: Row;
  apiKeys: ApiKeyRowChange[];
}

/**
 * The writes `events` (one account's, in version order) make on `stored`, each event's effect by
 * evolveAccountRow. Version-guarded: an event at or below the row's version is already applied
 * (inline, or a previous delivery) and skipped, a creation too once the row exists; one beyond
 * the next version is ReadModelDriftError. null: nothing to write.
 */
function writesOf(sid: string, stored: Row | null, events: readonly (AccountEvent & StoredEvent)[]): AccountWrite | null {
  let state: AccountState = stored && accountOfRow(stored, {});
  let row = stored;
  const apiKeys: ApiKeyRowChange[] = [];
  for (const event of events) {
    const at = state?.version ?? 0;
    if (event.streamVersion <= at || (isCreation(event.type) && state)) continue;
    if (event.streamVersion !== at + 1 || (!state && !isCreation(event.type))) {
      throw new ReadModelDriftError(`account ${sid}: read model at version ${state?.version ?? 'none'}, event at ${event.streamVersion}`);
    }
    const step = evolveAccountRow(state, event);
    if (step.state.sid !== sid) throw new ReadModelDriftError(`account ${sid}: ${event.type} names account ${step.state.sid}`);
    ({ state, row } = step);
    if (step.apiKey) apiKeys.push(step.apiKey);
  }
  return row && row !== stored ? { sid, from: stored?.version ?? null, row, apiKeys } : null;
}

/** Feeds `account_read_model` and `api_keys` from the global feed (catch-up, rebuild, and any write not made inline). */
export class AccountReadModelProjection implements Projection {
  readonly name = 'accounts';
  readonly tables = ['account_read_model', 'api_keys'];

  /**
   * Each event's effect by evolveAccountRow, in a few statements per batch: read the batch's
   * rows, fold each account's events in memory, insert the new rows in one statement and update
   * the changed ones in another, each guarded by the version it was folded from (applying an
   * event twice changes nothing, so the command's inline write and this can both run it, in
   * either order); then the written accounts' api_keys changes. An account whose row changed
   * meanwhile (a command's inline write) is folded again from its row, now locked.
   */
  async apply(executor: Kysely<Database>, events: readonly StoredEvent[]): Promise<void> {
    const bySid = new Map<string, (AccountEvent & StoredEvent)[]>();
    for (const event of events) {
      if (!isAccountEvent(event) || !event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) continue;
      const sid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
      const list = bySid.get(sid);
      if (list) list.push(event);
      else bySid.set(sid, [event]);
    }
    for (let attempt = 1; bySid.size > 0; attempt++) {
      // A row lock holds off the inline writer: the second attempt writes what it folds.
      if (attempt > 3) throw new Error(`accounts: rows of ${[...bySid.keys()].join(', ')} kept changing under the projection`);
      let read = executor.selectFrom('account_read_model').selectAll().where((eb) => eb('sid', '=', eb.fn.any(eb.val([...bySid.keys()]))));
      if (attempt > 1) read = read.forUpdate();
      const stored = new Map((await read.execute()).map((row) => [row.sid, row]));
      const writes: AccountWrite[] = [];
      for (const [sid, list] of bySid) {
        const write = writesOf(sid, stored.get(sid) ?? null, list);
        if (write) writes.push(write);
        else bySid.delete(sid);
      }
      const written = await this.writeRows(executor, writes);
      await this.writeApiKeys(
        executor,
        writes.filter((w) => written.has(w.sid)).flatMap((w) => w.apiKeys),
      );
      for (const sid of written) bySid.delete(sid);
    }
  }

  /** The rows, each only if its row is still at the version it was folded from (absent, for a new one). Returns the sids written. */
  private async writeRows(executor: Kysely<Database>, writes: readonly AccountWrite[]): Promise<Set<string>> {
    const inserts = writes.filter((w) => w.from === null).map((w) => w.row);
    const updates = writes.filter((w) => w.from !== null);
    const written = new Set<string>();
    if (inserts.length > 0) {
      for (const { sid } of await executor
        .insertInto('account_read_model')
        .columns(ROW_COLUMNS)
        .expression((eb) => eb.selectFrom(unnest<Row>(ROW_TYPES, inserts, 'r')).select(ROW_COLUMNS as never))
        .onConflict((oc) => oc.column('sid').doNothing())
        .returning('sid')
        .execute()) {
        written.add(sid);
      }
    }
    if (updates.length > 0) {
      const rows = updates.map((u) => u.row);
      for (const { sid } of await executor
        .updateTable('account_read_model')
        .from(unnest<Row>(ROW_TYPES, rows, 'r', { from_version: { type: 'bigint', values: updates.map((u) => u.from) } }))
        .set(Object.fromEntries(ROW_COLUMNS.filter((c) => c !== 'sid').map((c) => [c, sql.ref(`r.${c}`)])))
        .where(sql.ref('account_read_model.sid'), '=', sql.ref('r.sid'))
        .where(sql.ref('account_read_model.version'), '=', sql.ref('r.from_version'))
        .returning('account_read_model.sid')
        .execute()) {
        written.add(sid);
      }
    }
    return written;
  }

  /**
   * apiKeyRowChange's writes, in order per key, in at most three statements: a key's changes in
   * one batch net out to one insert, update or delete (created then deleted: nothing). A key
   * whose changes do not net out that way (never, from the decisions) has them written one by one.
   */
  private async writeApiKeys(executor: Kysely<Database>, changes: readonly ApiKeyRowChange[]): Promise<void> {
    if (changes.length === 0) return;
    const net = new Map<string, ApiKeyRowChange | null>();
    const oneByOne: ApiKeyRowChange[] = [];
    const sequential = new Set<string>();
    for (const change of changes) {
      const sid = change.match?.sid ?? (change.row?.sid as string);
      const before = net.get(sid);
      const after = sequential.has(sid) ? undefined : before === undefined ? change : composed(before, change);
      if (after !== undefined) {
        net.set(sid, after);
        continue;
      }
      // From here on this key's changes go one by one, in order, after the others.
      if (before) oneByOne.push(before);
      oneByOne.push(change);
      net.delete(sid);
      sequential.add(sid);
    }
    const all = [...net.values()].filter((c): c is ApiKeyRowChange => c !== null);
    const deletes = all.filter((c) => c.match !== null && c.row === null).map((c) => c.match!);
    const updates = all.filter((c) => c.match !== null && c.row !== null) as { match: { sid: string; account_sid: string }; row: Partial<ApiKeyRow> }[];
    const inserts = all.filter((c) => c.match === null).map((c) => c.row as ApiKeyRow);
    if (deletes.length > 0) {
      await executor
        .deleteFrom('api_keys')
        .using(unnest<{ sid: string; account_sid: string }>({ sid: 'text', account_sid: 'text' }, deletes, 'd'))
        .where(sql.ref('api_keys.sid'), '=', sql.ref('d.sid'))
        .where(sql.ref('api_keys.account_sid'), '=', sql.ref('d.account_sid'))
        .execute();
    }
    // One statement per set of columns changed (one set today: a rename's).
    const byColumns = new Map<string, typeof updates>();
    for (const update of updates) {
      const key = Object.keys(update.row).sort().join(',');
      byColumns.set(key, [...(byColumns.get(key) ?? []), update]);
    }
    for (const [key, group] of byColumns) {
      const columns = key.split(',') as (keyof ApiKeyRow)[];
      const types = Object.fromEntries(columns.map((c) => [c, API_KEY_TYPES[c]]));
      await executor
        .updateTable('api_keys')
        .from(
          unnest(types, group.map((u) => u.row), 'u', {
            match_sid: { type: 'text', values: group.map((u) => u.match.sid) },
            match_account_sid: { type: 'text', values: group.map((u) => u.match.account_sid) },
          }),
        )
        .set(Object.fromEntries(columns.map((c) => [c, sql.ref(`u.${c}`)])))
        .where(sql.ref('api_keys.sid'), '=', sql.ref('u.match_sid'))
        .where(sql.ref('api_keys.account_sid'), '=', sql.ref('u.match_account_sid'))
        .execute();
    }
    if (inserts.length > 0) {
      const columns = Object.keys(API_KEY_TYPES) as (keyof ApiKeyRow)[];
      await executor
        .insertInto('api_keys')
        .columns(columns)
        .expression((eb) => eb.selectFrom(unnest<ApiKeyRow>(API_KEY_TYPES, inserts, 'k')).select(columns as never))
        .execute();
    }
    for (const change of oneByOne) await writeApiKeyChange(executor, change);
  }

  /**
   * A rebuild's load of the feed range (after, until] into `schema`'s account_read_model, in SQL:
   * one INSERT ... SELECT from `events`, each account's row folded from its events by aggregates,
   * no rows through this process. `evolveAccountRow` stays the definition: this says the same for
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
    // Declines by default: only the types ACCOUNT_SQL_LOAD gives fields are readable (ELSE false).
    const loaded = Object.entries(ACCOUNT_SQL_LOAD).filter((entry): entry is [string, readonly string[]] => Array.isArray(entry[1]));
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
                   loaded.map(([type, fields]) => sql`WHEN ${type} THEN ${fields.length > 0 ? sql.join(fields.map(isString), sql` AND `) : sql`true`}`),
                   sql` `,
                 )} ELSE false END
                 -- A creation names its own stream's account (evolveAccountRow's row is the event's sid).
                 AND (e.type <> ALL(${creations}::text[]) OR e.data ->> 'sid' = substr(e.stream_id, ${prefix.length + 1})), false) AS readable,
               e.data ->> 'friendlyName' AS friendly_name, e.data ->> 'type' AS account_type, e.data ->> 'authToken' AS auth_token,
               e.data ->> 'ownerAccountSid' AS owner_account_sid, e.data ->> 'status' AS status,
               -- evolve's status === 'suspended' && reason === 'owner_suspended', for a reason of any JSON type or none.
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
        SELECT sid, CASE WHEN is_main THEN sid ELSE owner_account_sid END, is_main, friendly_name, type, status, auth_token, NULL, suspended_by_owner,
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

/**
 * `first` then `next` on one key as one change: undefined when they do not net out (anything
 * after a delete, a second insert). null: nothing at all (created, then deleted).
 */
function composed(first: ApiKeyRowChange | null, next: ApiKeyRowChange): ApiKeyRowChange | null | undefined {
  if (first === null || next.match === null || (first.match !== null && first.row === null)) return undefined;
  if (next.row === null) return first.match === null ? null : next;
  return { match: first.match, row: { ...first.row, ...next.row } };
}

/** One api_keys change as one statement. */
async function writeApiKeyChange(executor: Kysely<Database>, change: ApiKeyRowChange): Promise<void> {
  if (change.match === null) {
    await executor.insertInto('api_keys').values(change.row as Insertable<ApiKeysTable>).execute();
  } else if (change.row === null) {
    await executor.deleteFrom('api_keys').where('sid', '=', change.match.sid).where('account_sid', '=', change.match.account_sid).execute();
  } else {
    await executor.updateTable('api_keys').set(change.row).where('sid', '=', change.match.sid).where('account_sid', '=', change.match.account_sid).execute();
  }
}
