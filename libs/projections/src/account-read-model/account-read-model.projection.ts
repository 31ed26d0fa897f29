import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { AccountReadModelTable, Database } from '@accountable/database';
import { ACCOUNT_STREAM_PREFIX, AccountEventType, isAccountEvent, type MainAccountCreated, type SubaccountCreated } from '@accountable/accounts';
import type { Projection } from '../runner/projection';

/** The minimum the read model needs of an event; `recordedAt` null means "this transaction's now()". */
export interface AccountReadModelInput {
  streamId: string;
  streamVersion: number;
  type: string;
  data: Record<string, unknown>;
  recordedAt: Date | null;
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
  const at = sql<Date>`date_trunc('milliseconds', coalesce(${event.recordedAt}::timestamptz, now()))`;

  if (event.type === AccountEventType.MainAccountCreated || event.type === AccountEventType.SubaccountCreated) {
    return executor
      .insertInto('account_read_model')
      .values(createdRow(sid, event, at, v))
      .onConflict((oc) => oc.column('sid').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  let update = executor.updateTable('account_read_model').set({ version: v });
  switch (event.type) {
    case AccountEventType.SubaccountAdded:
      update = update.set({ open_subaccounts: sql`open_subaccounts + 1` });
      break;
    case AccountEventType.SubaccountReleased:
      update = update.set({ open_subaccounts: sql`greatest(open_subaccounts - 1, 0)` });
      break;
    case AccountEventType.AccountRenamed:
      update = update.set({ friendly_name: event.data.friendlyName, date_updated: at });
      break;
    case AccountEventType.AccountStatusChanged:
      update = update.set({
        status: event.data.status,
        suspended_by_owner: event.data.status === 'suspended' && event.data.reason === 'owner_suspended',
        date_updated: at,
      });
      break;
    case AccountEventType.AccountUpgraded:
      update = update.set({ type: event.data.type, date_updated: at });
      break;
  }
  const updated = await update.where('sid', '=', sid).where('version', '=', v - 1).returningAll().executeTakeFirst();
  if (updated) return updated;
  const row = await executor.selectFrom('account_read_model').select('version').where('sid', '=', sid).executeTakeFirst();
  if (row && row.version >= v) return undefined; // already applied (inline, or a previous delivery)
  throw new ReadModelDriftError(`account ${sid}: read model at version ${row?.version ?? 'none'}, event at ${v}`);
}

/**
 * The inline half, for command handlers (ACCOUNT_READ_MODEL_WRITER): the same guarded writes.
 * Returns each account's row as the last of its writes left it, so a command can answer with it.
 */
export const accountReadModelWriter = {
  async apply(executor: Kysely<Database>, events: readonly AccountReadModelInput[]): Promise<Map<string, Row>> {
    const written = new Map<string, Row>();
    for (const event of events) {
      const row = await applyAccountEvent(executor, event);
      if (row) written.set(row.sid, row);
    }
    return written;
  },
};

type Row = Selectable<AccountReadModelTable>;

/**
 * `row` after `event`, by the rules of applyAccountEvent's statements: a creation inserts unless
 * the row exists; any other event applies only on top of version - 1 and is skipped once applied.
 * `undefined` when applyAccountEvent would raise ReadModelDriftError (or the event has no time):
 * the caller leaves that account to applyAccountEvent.
 */
function evolveRow(row: Row | null, sid: string, event: AccountReadModelInput): Row | null | undefined {
  const v = event.streamVersion;
  const at = event.recordedAt;
  if (!isAccountEvent(event) || at === null) return undefined;
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

/** Feeds `account_read_model` from the global feed (catch-up, rebuild, and any write not made inline). */
export class AccountReadModelProjection implements Projection {
  readonly name = 'accounts';
  readonly tables = ['account_read_model'];

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

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('account_read_model').execute();
  }
}

/** The row an account's creation event makes; `at` is a Date or, written inline, SQL for "now". */
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
    suspended_by_owner: false,
    open_subaccounts: 0,
    date_created: at,
    date_updated: at,
    version: v,
  };
}
