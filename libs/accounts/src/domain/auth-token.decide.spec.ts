import { AccountEventType, type AccountEvent } from './account.events';
import { given, mainAccountCreated, ruleErrorOf, statusChanged, subaccountCreated } from './account.fixtures';
import { fold } from './account.state';
import { createSecondaryAuthToken, deleteSecondaryAuthToken, promoteAuthToken, rotateAuthToken } from './auth-token.decide';

const secondary = (authToken: string, replaced = false): AccountEvent => ({
  type: AccountEventType.SecondaryAuthTokenCreated,
  data: { authToken, replaced },
});

describe('secondary auth token and promotion', () => {
  it('given an account, when a secondary token is created, then SecondaryAuthTokenCreated; a second one replaces it', () => {
    expect(createSecondaryAuthToken({ authToken: 'enc:2' }, given(mainAccountCreated()))).toEqual([secondary('enc:2')]);
    expect(createSecondaryAuthToken({ authToken: 'enc:3' }, given(mainAccountCreated(), secondary('enc:2')))).toEqual([secondary('enc:3', true)]);
    expect(given(mainAccountCreated(), secondary('enc:2'), secondary('enc:3', true))?.secondaryAuthToken).toBe('enc:3');
  });

  it('delete and promote without a secondary token: not found', () => {
    const state = given(mainAccountCreated());
    expect(ruleErrorOf(() => deleteSecondaryAuthToken(state)).reason).toBe('secondary_auth_token_not_found');
    expect(ruleErrorOf(() => promoteAuthToken(state)).reason).toBe('secondary_auth_token_not_found');
  });

  it('promotion: the secondary becomes the primary, the slot is empty, date_updated moves', () => {
    const t0 = new Date(Date.UTC(2026, 0, 1));
    const t1 = new Date(Date.UTC(2026, 0, 2));
    const before = fold([{ ...mainAccountCreated(), recordedAt: t0 }, { ...secondary('enc:2'), recordedAt: t0 }]);
    const events = promoteAuthToken(before);
    expect(events).toEqual([{ type: AccountEventType.AuthTokenPromoted, data: {} }]);
    const after = fold([{ ...events[0], recordedAt: t1 }], before);
    expect(after).toMatchObject({ authToken: 'enc:2', secondaryAuthToken: null, updatedAt: t1, version: 3 });
    // Once promoted, a second promotion has nothing to promote.
    expect(ruleErrorOf(() => promoteAuthToken(after)).reason).toBe('secondary_auth_token_not_found');
  });

  it('delete empties the slot; the primary stays', () => {
    const state = given(mainAccountCreated(), secondary('enc:2'));
    const after = given(mainAccountCreated(), secondary('enc:2'), ...deleteSecondaryAuthToken(state));
    expect(after).toMatchObject({ authToken: 'enc:main', secondaryAuthToken: null });
  });

  it('rotation is a new secondary promoted in one decision; a closed account rotates nothing', () => {
    const state = given(subaccountCreated(), secondary('enc:old'));
    const events = rotateAuthToken({ authToken: 'enc:new' }, state);
    expect(events.map((e) => e.type)).toEqual(['SecondaryAuthTokenCreated', 'AuthTokenPromoted']);
    expect(given(subaccountCreated(), secondary('enc:old'), ...events)).toMatchObject({ authToken: 'enc:new', secondaryAuthToken: null });
    const closed = given(subaccountCreated(), statusChanged('active', 'closed'));
    expect(ruleErrorOf(() => rotateAuthToken({ authToken: 'x' }, closed)).reason).toBe('account_closed');
  });
});
