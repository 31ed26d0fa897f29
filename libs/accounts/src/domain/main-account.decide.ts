import { AccountRuleError } from './account.errors';
import {
  AccountEventType,
  type AccountEvent,
  type AccountStatus,
  type AccountStatusChanged,
  type AccountUpgraded,
} from './account.events';
import type { Account, AccountState } from './account.state';

/** Operator decisions (CLI): sign-up and billing live outside the API, so only main accounts. */

export function upgradeAccount(state: AccountState): [AccountUpgraded] {
  const account = requireOpenMain(state);
  if (account.type === 'Full') throw new AccountRuleError('already_full', `Account ${account.sid} is already Full`);
  return [{ type: AccountEventType.AccountUpgraded, data: { previous: 'Trial', type: 'Full' } }];
}

/** The caller then cascades to each of its open subaccounts (openSubaccountsOf) with suspendByOwner. */
export function suspendMainAccount(state: AccountState): [AccountStatusChanged] {
  return [operatorTransition(requireOpenMain(state), 'active', 'suspended')];
}

/** The caller then cascades to each of its open subaccounts (openSubaccountsOf) with reactivateByOwner. */
export function reactivateMainAccount(state: AccountState): [AccountStatusChanged] {
  return [operatorTransition(requireOpenMain(state), 'suspended', 'active')];
}

/**
 * Terminal, like a subaccount's close: nothing reopens it, and its credentials stop at once. The
 * caller then cascades to each of `openSubaccounts` with closeByOwner.
 */
export function closeMainAccount(state: AccountState): [AccountStatusChanged] {
  const account = requireOpenMain(state);
  return [{ type: AccountEventType.AccountStatusChanged, data: { previous: account.status, status: 'closed', reason: 'operator' } }];
}

/** The operator's decisions on one main account, by name: what MainAccountOperationCommand runs. */
export const MAIN_ACCOUNT_OPERATIONS = {
  upgrade: upgradeAccount,
  suspend: suspendMainAccount,
  reactivate: reactivateMainAccount,
  close: closeMainAccount,
} as const satisfies Record<string, (state: AccountState) => readonly AccountEvent[]>;
export type MainAccountOperation = keyof typeof MAIN_ACCOUNT_OPERATIONS;

function operatorTransition(account: Account, from: AccountStatus, to: AccountStatus): AccountStatusChanged {
  if (account.status !== from) {
    throw new AccountRuleError('invalid_transition', `Account ${account.sid} is ${account.status}, not ${from}`);
  }
  return { type: AccountEventType.AccountStatusChanged, data: { previous: from, status: to, reason: 'operator' } };
}

function requireOpenMain(state: AccountState): Account {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  if (!state.isMain) {
    throw new AccountRuleError(
      'operator_main_only',
      `Account ${state.sid} is a subaccount; operator commands apply to main accounts`,
    );
  }
  if (state.status === 'closed') throw new AccountRuleError('account_closed', `Account ${state.sid} is closed`);
  return state;
}
