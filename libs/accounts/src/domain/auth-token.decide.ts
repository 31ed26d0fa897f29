import { AccountRuleError } from './account.errors';
import { AccountEventType, type AuthTokenPromoted, type SecondaryAuthTokenCreated, type SecondaryAuthTokenDeleted } from './account.events';
import type { Account, AccountState } from './account.state';

/**
 * A second POST while a secondary token exists replaces it (our choice, README): the one just
 * issued is the one the client holds, and the replaced one stops authenticating at once.
 */
export function createSecondaryAuthToken(command: { readonly authToken: string }, state: AccountState): SecondaryAuthTokenCreated[] {
  const account = requireOpen(state);
  return [
    { type: AccountEventType.SecondaryAuthTokenCreated, data: { authToken: command.authToken, replaced: account.secondaryAuthToken !== null } },
  ];
}

/** Without a secondary token: 20404, as Promote (our choice, README). */
export function deleteSecondaryAuthToken(state: AccountState): SecondaryAuthTokenDeleted[] {
  requireSecondary(requireOpen(state));
  return [{ type: AccountEventType.SecondaryAuthTokenDeleted, data: {} }];
}

export function promoteAuthToken(state: AccountState): AuthTokenPromoted[] {
  requireSecondary(requireOpen(state));
  return [{ type: AccountEventType.AuthTokenPromoted, data: {} }];
}

/**
 * The operator's rotation of a leaked token: a new secondary token promoted in the same append,
 * so the old primary and any secondary there was stop authenticating together.
 */
export function rotateAuthToken(command: { readonly authToken: string }, state: AccountState): (SecondaryAuthTokenCreated | AuthTokenPromoted)[] {
  return [...createSecondaryAuthToken(command, state), { type: AccountEventType.AuthTokenPromoted, data: {} }];
}

function requireSecondary(account: Account): void {
  if (account.secondaryAuthToken === null) throw new AccountRuleError('secondary_auth_token_not_found', 'The account has no secondary auth token');
}

function requireOpen(state: AccountState): Account {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  if (state.status === 'closed') throw new AccountRuleError('account_closed', `Account ${state.sid} is closed`);
  return state;
}
