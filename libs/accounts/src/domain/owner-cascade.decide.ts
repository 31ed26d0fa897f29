import { AccountEventType, type AccountEvent, type AccountStatusChanged, type AccountUpgraded } from './account.events';
import type { Account, AccountState } from './account.state';

/**
 * Follow-ups to an operator's change of a main account, one per subaccount stream (each its own
 * event, caused by the parent's). They never fail on the subaccount's status: whatever is not
 * affected is skipped, so a re-run after a partial cascade is harmless.
 */

/** A follow-up's events for the subaccount's stream and, appended with them, for its owner's. */
export interface CascadeEvents {
  readonly subaccount: AccountEvent[];
  readonly owner: AccountEvent[];
}
export type FollowUp = (sub: AccountState) => CascadeEvents;

const onSubaccountOnly =
  (decide: (sub: AccountState) => AccountEvent[]): FollowUp =>
  (sub) => ({ subaccount: decide(sub), owner: [] });

/**
 * Which change of a main account reaches its subaccounts, and as what: null for any other event.
 * Only the operator's status changes cascade; a subaccount's own (`requested`) never reaches another.
 */
export function followUpOf(cause: AccountEvent): FollowUp | null {
  if (cause.type === AccountEventType.AccountUpgraded) return onSubaccountOnly(upgradeByOwner);
  if (cause.type !== AccountEventType.AccountStatusChanged || cause.data.reason !== 'operator') return null;
  switch (cause.data.status) {
    case 'suspended':
      return onSubaccountOnly(suspendByOwner);
    case 'active':
      return onSubaccountOnly(reactivateByOwner);
    case 'closed':
      return closeByOwner;
  }
}

export function suspendByOwner(sub: AccountState): AccountStatusChanged[] {
  const account = requireSubaccount(sub);
  if (account.status !== 'active') return [];
  return [
    {
      type: AccountEventType.AccountStatusChanged,
      data: { previous: 'active', status: 'suspended', reason: 'owner_suspended' },
    },
  ];
}

/** Restores exactly those the cascade suspended; one suspended on request stays suspended. */
export function reactivateByOwner(sub: AccountState): AccountStatusChanged[] {
  const account = requireSubaccount(sub);
  if (account.status !== 'suspended' || !account.suspendedByOwner) return [];
  return [
    {
      type: AccountEventType.AccountStatusChanged,
      data: { previous: 'suspended', status: 'active', reason: 'owner_reactivated' },
    },
  ];
}

/** Subaccounts take their owner's type (COMPAT.md, our choice): an upgrade of the owner reaches them. */
export function upgradeByOwner(sub: AccountState): AccountUpgraded[] {
  const account = requireSubaccount(sub);
  if (account.type !== 'Trial' || account.status === 'closed') return [];
  return [{ type: AccountEventType.AccountUpgraded, data: { previous: 'Trial', type: 'Full' } }];
}

/**
 * Closes every subaccount still open, a suspended one included: terminal, as its owner's close. It
 * is released on the owner's stream in the same append, as a subaccount closed on request is.
 */
export function closeByOwner(sub: AccountState): CascadeEvents {
  const account = requireSubaccount(sub);
  if (account.status === 'closed') return { subaccount: [], owner: [] };
  return {
    subaccount: [
      {
        type: AccountEventType.AccountStatusChanged,
        data: { previous: account.status, status: 'closed', reason: 'owner_closed' },
      },
    ],
    owner: [{ type: AccountEventType.SubaccountReleased, data: { subaccountSid: account.sid } }],
  };
}

/**
 * Whether what came after a cause on the owner's stream has overtaken it. A suspension or a
 * reactivation no longer says what the subaccounts should be once the owner's status has changed
 * again: the later change's own cascade does, so a late cascade of the earlier one (a lagging
 * projector, a replay from a reset checkpoint) must do nothing — a suspension whose owner has since
 * been reactivated suspends nobody, and its reactivation then finds nobody it has to restore. An
 * upgrade is never undone.
 */
export function causeOvertaken(cause: { readonly type: string }, later: readonly { readonly type: string }[]): boolean {
  return cause.type === AccountEventType.AccountStatusChanged && later.some((event) => event.type === AccountEventType.AccountStatusChanged);
}

/** The cascade walks the owner's open subaccounts: anything else here is a wiring or data fault. */
function requireSubaccount(state: AccountState): Account {
  if (state === null || state.isMain) throw new Error('owner cascade: expected the state of an existing subaccount');
  return state;
}

/**
 * The subaccounts an owner's events leave open (added, not released), in the order they were
 * added: whom a cause at the last of `events` reaches. The state keeps only their count.
 */
export function openSubaccountsOf(events: Iterable<{ readonly type: string; readonly data: unknown }>): string[] {
  const open = new Set<string>();
  for (const event of events) {
    const sid = (event.data as { subaccountSid?: string }).subaccountSid;
    if (event.type === AccountEventType.SubaccountAdded && sid !== undefined) open.add(sid);
    if (event.type === AccountEventType.SubaccountReleased && sid !== undefined) open.delete(sid);
  }
  return [...open];
}
