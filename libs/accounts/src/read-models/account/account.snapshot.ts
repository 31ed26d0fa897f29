import type { Selectable } from 'kysely';
import type { AccountReadModelTable, ApiKeysTable } from '@accountable/database';
import { AccountEventType, evolveNext, type AccountEvent, type AccountEventEnvelope, type AccountStatus, type AccountType } from '../../domain';
import type { Account, AccountState } from '../../domain';

/**
 * The account read-model row is the account's state at its version, field for field: the command
 * writes it in the transaction that appends the events, so a row whose version is its stream's is
 * an exact snapshot, and a decision can start from it instead of folding the stream. These two
 * mappings carry nothing per event: the events' effects are the domain's `evolve`, once.
 */
export type AccountSnapshotRow = Selectable<AccountReadModelTable>;

/** The state a row holds; `apiKeys` are the account's api_keys rows (sid → friendly name). */
export function accountOfRow(row: AccountSnapshotRow, apiKeys: Readonly<Record<string, string | null>>): Account {
  return {
    sid: row.sid,
    ownerAccountSid: row.owner_account_sid,
    isMain: row.is_main,
    friendlyName: row.friendly_name,
    type: row.type as AccountType,
    status: row.status as AccountStatus,
    authToken: row.auth_token,
    secondaryAuthToken: row.secondary_auth_token,
    suspendedByOwner: row.suspended_by_owner,
    openSubaccountCount: row.open_subaccounts,
    apiKeys,
    createdAt: row.date_created,
    updatedAt: row.date_updated,
    version: row.version,
  };
}

/** The row a state makes (verify holds the stored row against it; a command writes it). Dates are required here. */
export function rowOfAccount(state: Account): AccountSnapshotRow {
  if (!state.createdAt || !state.updatedAt) throw new Error(`account ${state.sid}: a row needs the state's times (fold with recordedAt)`);
  return {
    sid: state.sid,
    owner_account_sid: state.ownerAccountSid,
    is_main: state.isMain,
    friendly_name: state.friendlyName,
    type: state.type,
    status: state.status,
    auth_token: state.authToken,
    secondary_auth_token: state.secondaryAuthToken,
    suspended_by_owner: state.suspendedByOwner,
    open_subaccounts: state.openSubaccountCount,
    date_created: state.createdAt,
    date_updated: state.updatedAt,
    version: state.version,
  };
}

/** An api_keys row write: which row (null: a new one) and what it becomes (null: it goes). */
export interface ApiKeyRowChange {
  match: { sid: string; account_sid: string } | null;
  row: Partial<Selectable<ApiKeysTable>> | null;
}

/**
 * What a key event does to api_keys (null: nothing; the account row only moves its version).
 * The one definition: the inline commit and the accounts projection both write it.
 */
export function apiKeyRowChange(accountSid: string, event: AccountEvent, at: Date): ApiKeyRowChange | null {
  switch (event.type) {
    case AccountEventType.ApiKeyCreated:
      return {
        match: null,
        row: {
          sid: event.data.keySid,
          account_sid: accountSid,
          friendly_name: event.data.friendlyName,
          secret_verifier: event.data.secretVerifier,
          date_created: at,
          date_updated: at,
        },
      };
    case AccountEventType.ApiKeyRenamed:
      return { match: { sid: event.data.keySid, account_sid: accountSid }, row: { friendly_name: event.data.friendlyName, date_updated: at } };
    case AccountEventType.ApiKeyDeleted:
      return { match: { sid: event.data.keySid, account_sid: accountSid }, row: null };
    default:
      return null;
  }
}

/** What one event does to the read model: the state it leaves, that state's row, and its api_keys write. */
export interface AccountRowStep {
  state: Account;
  row: AccountSnapshotRow;
  apiKey: ApiKeyRowChange | null;
}

/**
 * The one definition of an account event's effect on the read model: the domain's `evolve`
 * (versions checked, evolveNext), written back as a row (rowOfAccount), with its api_keys write
 * (apiKeyRowChange). The command's inline write, the accounts projection (from a stored row:
 * accountOfRow) and verify all step through it; the rebuilds' SQL loads are held to it by
 * test/projections/sql-load-every-event-type.int.spec.ts.
 */
export function evolveAccountRow(state: AccountState, event: AccountEventEnvelope & { readonly recordedAt: Date }): AccountRowStep {
  // Never null: evolve returns an account for every event, or throws.
  const next = evolveNext(state, event)!;
  return { state: next, row: rowOfAccount(next), apiKey: apiKeyRowChange(next.sid, event, event.recordedAt) };
}
