import {
  given,
  mainAccountCreated,
  OTHER_SUB_SID,
  statusChanged,
  SUB_SID,
  subaccountAdded,
  subaccountCreated,
  subaccountReleased,
} from './account.fixtures';
import { causeOvertaken, closeByOwner, followUpOf, openSubaccountsOf, reactivateByOwner, suspendByOwner, upgradeByOwner } from './owner-cascade.decide';
import { evolve } from './account.state';

describe('owner cascade', () => {
  it('reaches the subaccounts added and not released, as the count in the state says', () => {
    const events = [mainAccountCreated(), subaccountAdded(SUB_SID), subaccountAdded(OTHER_SUB_SID), subaccountReleased(SUB_SID)];
    expect(openSubaccountsOf(events)).toEqual([OTHER_SUB_SID]);
    expect(given(...events)?.openSubaccountCount).toBe(1);
    expect(openSubaccountsOf(events.slice(0, 3))).toEqual([SUB_SID, OTHER_SUB_SID]);
  });

  const active = given(subaccountCreated());
  const suspendedOnRequest = given(subaccountCreated(), statusChanged('active', 'suspended', 'requested'));
  const closed = given(subaccountCreated(), statusChanged('active', 'closed', 'requested'));

  it('suspends an active subaccount', () => {
    expect(suspendByOwner(active)).toEqual([statusChanged('active', 'suspended', 'owner_suspended')]);
  });

  it.each([
    ['already suspended', suspendedOnRequest],
    ['closed', closed],
  ])('leaves a %s subaccount alone', (_, state) => {
    expect(suspendByOwner(state)).toEqual([]);
  });

  it('reactivates exactly those the cascade suspended', () => {
    const [suspension] = suspendByOwner(active);
    expect(reactivateByOwner(evolve(active, suspension))).toEqual([
      statusChanged('suspended', 'active', 'owner_reactivated'),
    ]);
    expect(reactivateByOwner(suspendedOnRequest)).toEqual([]);
    expect(reactivateByOwner(active)).toEqual([]);
    expect(reactivateByOwner(closed)).toEqual([]);
  });

  it('upgrades a Trial subaccount with its owner, but not a closed one', () => {
    const trial = given(subaccountCreated(undefined, undefined, 'Trial'));
    expect(upgradeByOwner(trial)).toEqual([{ type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } }]);
    expect(upgradeByOwner(given(subaccountCreated(undefined, undefined, 'Full')))).toEqual([]);
    expect(upgradeByOwner(given(subaccountCreated(undefined, undefined, 'Trial'), statusChanged('active', 'closed', 'requested')))).toEqual([]);
  });

  it('closes every open subaccount, a suspended one included, and releases it on its owner', () => {
    const released = [{ type: 'SubaccountReleased', data: { subaccountSid: SUB_SID } }];
    expect(closeByOwner(active)).toEqual({ subaccount: [statusChanged('active', 'closed', 'owner_closed')], owner: released });
    expect(closeByOwner(suspendedOnRequest)).toEqual({ subaccount: [statusChanged('suspended', 'closed', 'owner_closed')], owner: released });
    const [suspension] = suspendByOwner(active);
    expect(closeByOwner(evolve(active, suspension)).subaccount).toEqual([statusChanged('suspended', 'closed', 'owner_closed')]);
    expect(closeByOwner(closed)).toEqual({ subaccount: [], owner: [] });
  });

  it('follows only the operator’s changes of the owner, each with its own follow-up', () => {
    const follow = (cause: Parameters<typeof followUpOf>[0]) => followUpOf(cause)?.(active);
    expect(follow(statusChanged('active', 'suspended', 'operator'))).toEqual({ subaccount: suspendByOwner(active), owner: [] });
    expect(follow(statusChanged('active', 'closed', 'operator'))).toEqual(closeByOwner(active));
    expect(follow({ type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } })).toEqual({ subaccount: upgradeByOwner(active), owner: [] });
    const reactivated = followUpOf(statusChanged('suspended', 'active', 'operator'))!;
    expect(reactivated(evolve(active, suspendByOwner(active)[0]))).toEqual({ subaccount: [statusChanged('suspended', 'active', 'owner_reactivated')], owner: [] });
    // A subaccount's own changes, and the cascade's follow-ups, cause nothing.
    expect(followUpOf(statusChanged('active', 'closed', 'requested'))).toBeNull();
    expect(followUpOf(statusChanged('active', 'closed', 'owner_closed'))).toBeNull();
    expect(followUpOf(statusChanged('active', 'suspended', 'owner_suspended'))).toBeNull();
    expect(followUpOf({ type: 'AccountRenamed', data: { previous: 'a', friendlyName: 'b' } })).toBeNull();
  });

  it('treats a missing stream or a main account as a fault', () => {
    expect(() => suspendByOwner(null)).toThrow();
    expect(() => reactivateByOwner(given(mainAccountCreated()))).toThrow();
    expect(() => closeByOwner(given(mainAccountCreated()))).toThrow();
  });

  it('a suspension or reactivation is overtaken by any later status change of its owner; an upgrade never is', () => {
    const suspension = statusChanged('active', 'suspended', 'operator');
    const reactivation = statusChanged('suspended', 'active', 'operator');
    const upgrade = { type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } } as const;
    const added = { type: 'SubaccountAdded', data: { subaccountSid: SUB_SID } } as const;
    expect(causeOvertaken(suspension, [])).toBe(false);
    expect(causeOvertaken(suspension, [added, upgrade])).toBe(false);
    expect(causeOvertaken(suspension, [added, reactivation])).toBe(true);
    expect(causeOvertaken(reactivation, [suspension])).toBe(true);
    expect(causeOvertaken(upgrade, [suspension, reactivation])).toBe(false);
  });
});
