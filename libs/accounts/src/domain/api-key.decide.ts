import { AccountRuleError } from './account.errors';
import { AccountEventType, type ApiKeyCreated, type ApiKeyDeleted, type ApiKeyRenamed } from './account.events';
import type { Account, AccountState } from './account.state';
import { FRIENDLY_NAME_MAX_LENGTH, friendlyNameLength } from './friendly-name.rules';

/** Live keys per account (70151 beyond). Twilio's own cap is not public: our choice. */
export const API_KEY_LIMIT = 100;

export interface CreateApiKey {
  readonly keySid: string;
  /** Absent: the key has no name (null), as Twilio does. */
  readonly friendlyName?: string;
  readonly secretVerifier: string;
}

export function createApiKey(command: CreateApiKey, state: AccountState): ApiKeyCreated[] {
  const account = requireOpen(state);
  const friendlyName = validName(command.friendlyName);
  if (Object.keys(account.apiKeys).length >= API_KEY_LIMIT) {
    throw new AccountRuleError('api_key_limit', `Maximum number of API keys (${API_KEY_LIMIT}) exceeded`);
  }
  return [
    { type: AccountEventType.ApiKeyCreated, data: { keySid: command.keySid, friendlyName, secretVerifier: command.secretVerifier } },
  ];
}

export interface RenameApiKey {
  readonly keySid: string;
  /** Absent: nothing changes. */
  readonly friendlyName?: string;
}

/** An unknown key is 20404 before anything else, on a closed account too. */
export function renameApiKey(command: RenameApiKey, state: AccountState): ApiKeyRenamed[] {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  const previous = requireKey(state, command.keySid);
  requireOpen(state);
  if (command.friendlyName === undefined) return [];
  const friendlyName = validName(command.friendlyName);
  if (friendlyName === previous) return [];
  return [{ type: AccountEventType.ApiKeyRenamed, data: { keySid: command.keySid, previous, friendlyName } }];
}

/** Deletion is allowed on a suspended account too (our choice): cutting off a leaked key must always work. */
export function deleteApiKey(command: { readonly keySid: string }, state: AccountState): ApiKeyDeleted[] {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  const friendlyName = requireKey(state, command.keySid);
  return [{ type: AccountEventType.ApiKeyDeleted, data: { keySid: command.keySid, friendlyName } }];
}

function validName(name: string | undefined): string | null {
  if (name === undefined) return null;
  if (friendlyNameLength(name) > FRIENDLY_NAME_MAX_LENGTH) {
    throw new AccountRuleError('api_key_name_invalid', `FriendlyName must be at most ${FRIENDLY_NAME_MAX_LENGTH} characters`);
  }
  return name;
}

function requireKey(account: Account, keySid: string): string | null {
  if (!Object.hasOwn(account.apiKeys, keySid)) throw new AccountRuleError('api_key_not_found', `API key ${keySid} does not exist`);
  return account.apiKeys[keySid];
}

function requireOpen(state: AccountState): Account {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  if (state.status === 'closed') throw new AccountRuleError('account_closed', `Account ${state.sid} is closed`);
  return state;
}
