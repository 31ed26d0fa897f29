import { changeStatus, decideUpdate, renameAccount } from './account-update.decide';
import { AccountEventType, type AccountStatus } from './account.events';
import {
  given,
  MAIN_SID,
  mainAccountCreated,
  ruleErrorOf,
  statusChanged,
  SUB_SID,
  subaccountAdded,
  subaccountCreated,
} from './account.fixtures';

const owner = given(mainAccountCreated(), subaccountAdded());
const sub = given(subaccountCreated());
const closedSub = given(subaccountCreated(), statusChanged('active', 'closed'));

describe('rename account', () => {
  it('records the previous and the new name', () => {
    expect(renameAccount({ friendlyName: 'Renamed' }, sub)).toEqual([
      { type: AccountEventType.AccountRenamed, data: { previous: 'Sub', friendlyName: 'Renamed' } },
    ]);
  });

  it('records nothing for the same name', () => {
    expect(renameAccount({ friendlyName: 'Sub' }, sub)).toEqual([]);
  });

  it.each([
    ['64', 64, true],
    ['65', 65, false],
  ])('%s characters', (_, length, ok) => {
    const when = () => renameAccount({ friendlyName: 'n'.repeat(length) }, sub);
    if (ok) expect(when()).toHaveLength(1);
    else expect(ruleErrorOf(when)).toMatchObject({ reason: 'friendly_name_invalid' });
  });

  it('refuses a closed account with 21479', () => {
    expect(ruleErrorOf(() => renameAccount({ friendlyName: 'x' }, closedSub))).toMatchObject({
      reason: 'account_closed',
    });
  });

  it('refuses a missing account', () => {
    expect(ruleErrorOf(() => renameAccount({ friendlyName: 'x' }, null))).toMatchObject({
      reason: 'account_not_found',
    });
  });
});

describe('change status', () => {
  const byOwner = (status: AccountStatus) => ({ status, actorSid: MAIN_SID });

  it('suspends a subaccount on the owner’s request', () => {
    expect(changeStatus(byOwner('suspended'), sub, owner)).toEqual({
      target: [statusChanged('active', 'suspended', 'requested')],
      owner: [],
    });
  });

  it('closing also releases the subaccount on the owner stream', () => {
    expect(changeStatus(byOwner('closed'), sub, owner)).toEqual({
      target: [statusChanged('active', 'closed', 'requested')],
      owner: [{ type: AccountEventType.SubaccountReleased, data: { subaccountSid: SUB_SID } }],
    });
  });

  it('records nothing for the same status', () => {
    expect(changeStatus(byOwner('active'), sub, owner)).toEqual({ target: [], owner: [] });
  });

  it('refuses any change to a closed account with 21479', () => {
    expect(ruleErrorOf(() => changeStatus(byOwner('active'), closedSub, owner))).toMatchObject({ reason: 'account_closed' });
  });

  it('refuses a main account changing its own status with 21477', () => {
    expect(ruleErrorOf(() => changeStatus(byOwner('suspended'), owner, null))).toMatchObject({
      reason: 'main_status_change',
    });
  });

  it('refuses a subaccount changing its own status with 20006', () => {
    expect(ruleErrorOf(() => changeStatus({ status: 'closed', actorSid: SUB_SID }, sub, owner))).toMatchObject({
      reason: 'self_status_change',
    });
  });

  it('refuses changes while the owner is suspended with 21476', () => {
    const suspendedOwner = given(
      mainAccountCreated(),
      subaccountAdded(),
      statusChanged('active', 'suspended', 'operator'),
    );
    expect(ruleErrorOf(() => changeStatus(byOwner('closed'), sub, suspendedOwner))).toMatchObject({
      reason: 'owner_suspended',
    });
  });

  it('treats a missing or foreign owner state as a fault, not a rule', () => {
    expect(() => changeStatus(byOwner('closed'), sub, null)).toThrow();
    expect(() =>
      changeStatus(byOwner('closed'), sub, given(mainAccountCreated('Full', 'AC' + 'f'.repeat(32)))),
    ).toThrow();
  });
});

describe('update (FriendlyName and Status in one request)', () => {
  it('renames, then changes status', () => {
    expect(decideUpdate({ friendlyName: 'Gone', status: 'closed', actorSid: MAIN_SID }, sub, owner)).toEqual({
      target: [
        { type: AccountEventType.AccountRenamed, data: { previous: 'Sub', friendlyName: 'Gone' } },
        statusChanged('active', 'closed', 'requested'),
      ],
      owner: [{ type: AccountEventType.SubaccountReleased, data: { subaccountSid: SUB_SID } }],
    });
  });

  it('a refused status change with a good FriendlyName changes nothing', () => {
    expect(
      ruleErrorOf(() => decideUpdate({ friendlyName: 'Fine', status: 'suspended', actorSid: MAIN_SID }, sub, given(mainAccountCreated(), subaccountAdded(), statusChanged('active', 'suspended', 'operator')))),
    ).toMatchObject({
      reason: 'owner_suspended',
    });
  });

  it('a subaccount may rename itself but not change its status', () => {
    expect(decideUpdate({ friendlyName: 'Me', actorSid: SUB_SID }, sub, owner).target).toHaveLength(1);
    expect(
      ruleErrorOf(() => decideUpdate({ friendlyName: 'Me', status: 'active', actorSid: SUB_SID }, sub, owner)),
    ).toMatchObject({
      reason: 'self_status_change',
    });
  });

  it('a main account may rename itself', () => {
    expect(decideUpdate({ friendlyName: 'Acme', actorSid: MAIN_SID }, owner, null)).toEqual({
      target: [{ type: AccountEventType.AccountRenamed, data: { previous: 'Main', friendlyName: 'Acme' } }],
      owner: [],
    });
  });

  it('with neither parameter, records nothing', () => {
    expect(decideUpdate({ actorSid: MAIN_SID }, sub, owner)).toEqual({ target: [], owner: [] });
  });
});
