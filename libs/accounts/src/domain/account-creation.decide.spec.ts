import {
  createMainAccount,
  createSubaccount,
  SUBACCOUNT_LIMIT,
  type CreateSubaccount,
} from './account-creation.decide';
import { AccountEventType, type AccountEvent } from './account.events';
import {
  given,
  MAIN_SID,
  mainAccountCreated,
  OTHER_SUB_SID,
  ruleErrorOf,
  statusChanged,
  SUB_SID,
  subaccountAdded,
  subaccountCreated,
  subaccountReleased,
} from './account.fixtures';

describe('create main account', () => {
  const command = { sid: MAIN_SID, friendlyName: 'Acme', type: 'Trial' as const, authToken: 'enc:t' };

  it('given no stream, records the account', () => {
    expect(createMainAccount(command, null)).toEqual([
      {
        type: AccountEventType.MainAccountCreated,
        data: { sid: MAIN_SID, friendlyName: 'Acme', type: 'Trial', authToken: 'enc:t' },
      },
    ]);
  });

  it('rejects an invalid name', () => {
    expect(ruleErrorOf(() => createMainAccount({ ...command, friendlyName: '' }, null))).toMatchObject({ reason: 'friendly_name_invalid' });
  });

  it('rejects an existing stream', () => {
    expect(ruleErrorOf(() => createMainAccount(command, given(mainAccountCreated())))).toMatchObject({
      reason: 'account_exists',
    });
  });
});

describe('create subaccount', () => {
  const now = new Date(Date.UTC(2024, 5, 1, 13, 7));
  const command: CreateSubaccount = { sid: OTHER_SUB_SID, friendlyName: 'Team', authToken: 'enc:s', now };
  const added = (n: number): AccountEvent[] =>
    Array.from({ length: n }, (_, i) => subaccountAdded(`AC${i.toString(16).padStart(32, '0')}`));

  it('records the subaccount and adds it to the owner, with the owner type', () => {
    expect(createSubaccount(command, given(mainAccountCreated('Trial')))).toEqual({
      owner: [{ type: AccountEventType.SubaccountAdded, data: { subaccountSid: OTHER_SUB_SID } }],
      subaccount: [
        {
          type: AccountEventType.SubaccountCreated,
          data: {
            sid: OTHER_SUB_SID,
            ownerAccountSid: MAIN_SID,
            friendlyName: 'Team',
            type: 'Trial',
            authToken: 'enc:s',
          },
        },
      ],
    });
  });

  it('names an unnamed subaccount after the creation time', () => {
    const { subaccount } = createSubaccount({ ...command, friendlyName: undefined }, given(mainAccountCreated()));
    expect(subaccount[0].data.friendlyName).toBe('SubAccount Created at 2024-06-01 01:07 pm');
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
  ])('rejects a given but %s name with 20002', (_, friendlyName) => {
    expect(
      ruleErrorOf(() => createSubaccount({ ...command, friendlyName }, given(mainAccountCreated()))),
    ).toMatchObject({
      reason: 'friendly_name_invalid',
    });
  });

  it('refuses a subaccount as owner with 21101', () => {
    expect(ruleErrorOf(() => createSubaccount(command, given(subaccountCreated())))).toMatchObject({
      reason: 'not_main_account',
    });
  });

  it('refuses an inactive caller', () => {
    const suspended = given(mainAccountCreated(), statusChanged('active', 'suspended', 'operator'));
    expect(ruleErrorOf(() => createSubaccount(command, suspended))).toMatchObject({ reason: 'account_not_active' });
  });

  it('refuses a missing caller', () => {
    expect(ruleErrorOf(() => createSubaccount(command, null))).toMatchObject({ reason: 'account_not_found' });
  });

  describe('limit', () => {
    it('is 1 for Trial and 1000 for Full', () => {
      expect(SUBACCOUNT_LIMIT).toEqual({ Trial: 1, Full: 1000 });
    });

    it('Trial: a second open subaccount is refused with 21480', () => {
      const owner = given(mainAccountCreated('Trial'), subaccountAdded(SUB_SID));
      expect(ruleErrorOf(() => createSubaccount(command, owner))).toMatchObject({
        reason: 'subaccount_limit',
      });
    });

    it('Trial: a closed subaccount does not count', () => {
      const owner = given(mainAccountCreated('Trial'), subaccountAdded(SUB_SID), subaccountReleased(SUB_SID));
      expect(createSubaccount(command, owner).subaccount).toHaveLength(1);
    });

    it('Full: the 1000th is allowed, the 1001st refused', () => {
      expect(createSubaccount(command, given(mainAccountCreated('Full'), ...added(999))).owner).toHaveLength(1);
      const full = given(mainAccountCreated('Full'), ...added(1000));
      expect(ruleErrorOf(() => createSubaccount(command, full))).toMatchObject({ reason: 'subaccount_limit' });
    });
  });
});
