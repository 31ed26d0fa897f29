import { AccountRuleError } from './account.errors';
import {
  AccountEventType,
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
