import { AccountEventType } from './account.events';
import { given, mainAccountCreated, ruleErrorOf, statusChanged, subaccountCreated } from './account.fixtures';
import { closeMainAccount, reactivateMainAccount, suspendMainAccount, upgradeAccount } from './main-account.decide';

const closedSub = given(subaccountCreated(), statusChanged('active', 'closed'));

describe('upgrade account', () => {
  it('moves a Trial main account to Full', () => {
    expect(upgradeAccount(given(mainAccountCreated('Trial')))).toEqual([
      { type: AccountEventType.AccountUpgraded, data: { previous: 'Trial', type: 'Full' } },
    ]);
  });

  it('refuses an account already Full', () => {
    expect(ruleErrorOf(() => upgradeAccount(given(mainAccountCreated('Full'))))).toMatchObject({
      reason: 'already_full',
    });
  });

  it('refuses a subaccount', () => {
    expect(ruleErrorOf(() => upgradeAccount(given(subaccountCreated())))).toMatchObject({
      reason: 'operator_main_only',
    });
  });

  it('refuses a missing account', () => {
    expect(ruleErrorOf(() => upgradeAccount(null))).toMatchObject({ reason: 'account_not_found' });
  });
});

describe('suspend / reactivate main account', () => {
  const active = given(mainAccountCreated());
  const suspended = given(mainAccountCreated(), statusChanged('active', 'suspended', 'operator'));

  it('suspends an active main account', () => {
    expect(suspendMainAccount(active)).toEqual([statusChanged('active', 'suspended', 'operator')]);
  });

  it('reactivates a suspended main account', () => {
    expect(reactivateMainAccount(suspended)).toEqual([statusChanged('suspended', 'active', 'operator')]);
  });

  it('refuses the wrong current status', () => {
    expect(ruleErrorOf(() => suspendMainAccount(suspended))).toMatchObject({ reason: 'invalid_transition' });
    expect(ruleErrorOf(() => reactivateMainAccount(active))).toMatchObject({ reason: 'invalid_transition' });
  });

  it('refuses a subaccount, closed or not', () => {
    expect(ruleErrorOf(() => suspendMainAccount(given(subaccountCreated())))).toMatchObject({
      reason: 'operator_main_only',
    });
    expect(ruleErrorOf(() => reactivateMainAccount(closedSub))).toMatchObject({ reason: 'operator_main_only' });
  });

  it('refuses a closed main account', () => {
    const closed = given(mainAccountCreated(), statusChanged('active', 'closed', 'operator'));
    expect(ruleErrorOf(() => suspendMainAccount(closed))).toMatchObject({ reason: 'account_closed' });
    expect(ruleErrorOf(() => reactivateMainAccount(closed))).toMatchObject({ reason: 'account_closed' });
    expect(ruleErrorOf(() => upgradeAccount(closed))).toMatchObject({ reason: 'account_closed' });
  });
});

describe('close main account', () => {
  it.each([
    ['an active', given(mainAccountCreated()), 'active'],
    ['a suspended', given(mainAccountCreated(), statusChanged('active', 'suspended', 'operator')), 'suspended'],
  ] as const)('closes %s main account, by the operator', (_, state, previous) => {
    expect(closeMainAccount(state)).toEqual([statusChanged(previous, 'closed', 'operator')]);
  });

  it('is terminal: a second close is refused, as is any other operator change', () => {
    const closed = given(mainAccountCreated(), ...closeMainAccount(given(mainAccountCreated())));
    expect(closed?.status).toBe('closed');
    expect(ruleErrorOf(() => closeMainAccount(closed))).toMatchObject({ reason: 'account_closed' });
  });

  it('refuses a subaccount and a missing account', () => {
    expect(ruleErrorOf(() => closeMainAccount(given(subaccountCreated())))).toMatchObject({ reason: 'operator_main_only' });
    expect(ruleErrorOf(() => closeMainAccount(null))).toMatchObject({ reason: 'account_not_found' });
  });
});
