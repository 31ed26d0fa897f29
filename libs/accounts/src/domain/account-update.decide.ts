import { AccountRuleError } from './account.errors';
import { AccountEventType, type AccountEvent, type AccountRenamed, type AccountStatus } from './account.events';
import type { Account, AccountState } from './account.state';
import { assertValidFriendlyName } from './friendly-name.rules';

/**
 * Events for the target's stream and, when a subaccount closes, for its owner's stream; both are
 * appended in one transaction. Who may reach the target at all (else 20404) is checked before
 * deciding.
 */
export interface AccountUpdateEvents {
  readonly target: AccountEvent[];
  readonly owner: AccountEvent[];
}

const noEvents = (): AccountUpdateEvents => ({ target: [], owner: [] });

export interface RenameAccount {
  readonly friendlyName: string;
}

/** Any account that reaches the target may rename it, a subaccount itself included. */
export function renameAccount(command: RenameAccount, state: AccountState): AccountRenamed[] {
  assertValidFriendlyName(command.friendlyName);
  const account = requireOpen(state);
  if (account.friendlyName === command.friendlyName) return [];
  return [
    {
      type: AccountEventType.AccountRenamed,
      data: { previous: account.friendlyName, friendlyName: command.friendlyName },
    },
  ];
}

export interface ChangeStatus {
  /** Parsed at the edge (the API's parseAccountStatus: anything else is 400 21475 there). */
  readonly status: AccountStatus;
  readonly actorSid: string;
}

/** `owner` is the target's owner, null when the target is a main account. */
export function changeStatus(command: ChangeStatus, target: AccountState, owner: AccountState): AccountUpdateEvents {
  const status = command.status;
  const account = requireOpen(target);
  if (account.isMain) {
    throw new AccountRuleError('main_status_change', 'A main account cannot change its own status');
  }
  if (command.actorSid === account.sid) {
    throw new AccountRuleError('self_status_change', 'A subaccount cannot change its own status');
  }
  const parent = requireOwnerOf(account, owner);
  if (parent.status === 'suspended') {
    throw new AccountRuleError(
      'owner_suspended',
      'Subaccount status cannot change while the main account is suspended',
    );
  }
  if (account.status === status) return noEvents();

  return {
    target: [
      {
        type: AccountEventType.AccountStatusChanged,
        data: { previous: account.status, status, reason: 'requested' },
      },
    ],
    owner:
      status === 'closed' ? [{ type: AccountEventType.SubaccountReleased, data: { subaccountSid: account.sid } }] : [],
  };
}

/** One POST to the account: either parameter may be absent. */
export interface UpdateAccount {
  readonly friendlyName?: string;
  readonly status?: AccountStatus;
  readonly actorSid: string;
}

/**
 * All or nothing: both decisions run before any event is returned, so a refused status change with
 * a good FriendlyName changes nothing. A rename is ordered before the status change it came with.
 */
export function decideUpdate(command: UpdateAccount, target: AccountState, owner: AccountState): AccountUpdateEvents {
  const renamed =
    command.friendlyName === undefined ? [] : renameAccount({ friendlyName: command.friendlyName }, target);
  const statusChange =
    command.status === undefined
      ? noEvents()
      : changeStatus({ status: command.status, actorSid: command.actorSid }, target, owner);
  return { target: [...renamed, ...statusChange.target], owner: [...statusChange.owner] };
}

function requireOpen(state: AccountState): Account {
  if (state === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
  if (state.status === 'closed') throw new AccountRuleError('account_closed', `Account ${state.sid} is closed`);
  return state;
}

/** A missing or mismatched owner is a wiring or data fault, not a rule the caller broke. */
function requireOwnerOf(account: Account, owner: AccountState): Account {
  if (owner === null || owner.sid !== account.ownerAccountSid) {
    throw new Error(`changeStatus: expected the state of owner ${account.ownerAccountSid} for ${account.sid}`);
  }
  return owner;
}
