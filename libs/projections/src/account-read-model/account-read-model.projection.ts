import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '@accountable/database';
import { ACCOUNT_STREAM_PREFIX, AccountEventType, isAccountEvent } from '@accountable/accounts';
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
export async function applyAccountEvent(executor: Kysely<Database>, event: AccountReadModelInput): Promise<void> {
  if (!isAccountEvent(event) || !event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) return;
  const sid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
  const v = event.streamVersion;
  // Truncated to milliseconds: the precision of JavaScript dates and of page tokens.
  const at = sql<Date>`date_trunc('milliseconds', coalesce(${event.recordedAt}::timestamptz, now()))`;

  if (event.type === AccountEventType.MainAccountCreated || event.type === AccountEventType.SubaccountCreated) {
    const d = event.data;
    await executor
      .insertInto('account_read_model')
      .values({
        sid,
        owner_account_sid: event.type === AccountEventType.SubaccountCreated ? (d as { ownerAccountSid: string }).ownerAccountSid : sid,
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
      })
      .onConflict((oc) => oc.column('sid').doNothing())
      .execute();
    return;
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
  const result = await update.where('sid', '=', sid).where('version', '=', v - 1).executeTakeFirst();
  if (result.numUpdatedRows === 1n) return;
  const row = await executor.selectFrom('account_read_model').select('version').where('sid', '=', sid).executeTakeFirst();
  if (row && row.version >= v) return; // already applied (inline, or a previous delivery)
  throw new ReadModelDriftError(`account ${sid}: read model at version ${row?.version ?? 'none'}, event at ${v}`);
}

/** The inline half, for command handlers (ACCOUNT_READ_MODEL_WRITER): the same guarded writes. */
export const accountReadModelWriter = {
  async apply(executor: Kysely<Database>, events: readonly AccountReadModelInput[]): Promise<void> {
    for (const event of events) await applyAccountEvent(executor, event);
  },
};

/** Feeds `account_read_model` from the global feed (catch-up, rebuild, and any write not made inline). */
export class AccountReadModelProjection implements Projection {
  readonly name = 'accounts';
  readonly tables = ['account_read_model'];

  async apply(trx: Transaction<Database>, events: readonly { streamId: string; streamVersion: number; type: string; data: Record<string, unknown>; recordedAt: Date }[]): Promise<void> {
    for (const event of events) await applyAccountEvent(trx, event);
  }

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('account_read_model').execute();
  }
}
