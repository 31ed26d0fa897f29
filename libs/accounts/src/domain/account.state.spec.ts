import { accountStreamId, AccountEventType, isAccountEvent, SCHEMA_VERSION } from './account.events';
import {
  given,
  MAIN_SID,
  mainAccountCreated,
  OTHER_SUB_SID,
  statusChanged,
  SUB_SID,
  subaccountAdded,
  subaccountCreated,
  subaccountReleased,
} from './account.fixtures';
import { evolve, fold, StreamVersionGapError } from './account.state';

const t = (minute: number) => new Date(Date.UTC(2024, 0, 2, 10, minute));

describe('account state', () => {
  it('a main account owns itself and starts active at version 1', () => {
    expect(given(mainAccountCreated('Trial'))).toEqual({
      sid: MAIN_SID,
      ownerAccountSid: MAIN_SID,
      isMain: true,
      friendlyName: 'Main',
      type: 'Trial',
      status: 'active',
      authToken: 'enc:main',
      secondaryAuthToken: null,
      suspendedByOwner: false,
      openSubaccountCount: 0,
      apiKeys: {},
      createdAt: undefined,
      updatedAt: undefined,
      version: 1,
    });
  });

  it('a subaccount points at its owner', () => {
    expect(given(subaccountCreated())).toMatchObject({ sid: SUB_SID, ownerAccountSid: MAIN_SID, isMain: false });
  });

  it('tracks open subaccounts as added minus released', () => {
    const state = given(
      mainAccountCreated(),
      subaccountAdded(SUB_SID),
      subaccountAdded(OTHER_SUB_SID),
      subaccountReleased(SUB_SID),
    );
    expect(state).toMatchObject({ openSubaccountCount: 1, version: 4 });
  });

  it('dates from recordedAt; subaccount bookkeeping does not touch updatedAt', () => {
    const state = fold([
      { ...mainAccountCreated(), recordedAt: t(0) },
      { ...subaccountAdded(), recordedAt: t(1) },
      { type: AccountEventType.AccountRenamed, data: { previous: 'Main', friendlyName: 'New' }, recordedAt: t(2) },
      { ...subaccountReleased(), recordedAt: t(3) },
    ]);
    expect(state).toMatchObject({ friendlyName: 'New', createdAt: t(0), updatedAt: t(2) });
  });

  it('applies status changes and upgrades', () => {
    const state = given(mainAccountCreated('Trial'), statusChanged('active', 'suspended', 'operator'), {
      type: AccountEventType.AccountUpgraded,
      data: { previous: 'Trial', type: 'Full' },
    });
    expect(state).toMatchObject({ status: 'suspended', type: 'Full', suspendedByOwner: false });
  });

  it('marks only cascade suspensions, and clears the mark on the next change', () => {
    const suspended = given(subaccountCreated(), statusChanged('active', 'suspended', 'owner_suspended'));
    expect(suspended?.suspendedByOwner).toBe(true);
    expect(evolve(suspended, statusChanged('suspended', 'active', 'owner_reactivated'))?.suspendedByOwner).toBe(false);
  });

  it('folds on from a given state', () => {
    const start = given(mainAccountCreated());
    expect(fold([subaccountAdded()], start)).toMatchObject({ openSubaccountCount: 1, version: 2 });
  });

  it('rejects impossible histories as corrupt streams', () => {
    expect(() => given(mainAccountCreated(), mainAccountCreated())).toThrow();
    expect(() => given(subaccountAdded())).toThrow();
  });
});

describe('account event contract', () => {
  it('names one stream per account', () => {
    expect(accountStreamId(MAIN_SID)).toBe(`account-${MAIN_SID}`);
  });

  it('keeps every type string fixed, all at schema version 1', () => {
    expect(SCHEMA_VERSION).toEqual({
      MainAccountCreated: 1,
      SubaccountCreated: 1,
      SubaccountAdded: 1,
      SubaccountReleased: 1,
      AccountRenamed: 1,
      AccountStatusChanged: 1,
      AccountUpgraded: 1,
      ApiKeyCreated: 1,
      ApiKeyRenamed: 1,
      ApiKeyDeleted: 1,
      SecondaryAuthTokenCreated: 1,
      SecondaryAuthTokenDeleted: 1,
      AuthTokenPromoted: 1,
    });
    expect(Object.keys(AccountEventType)).toEqual(Object.values(AccountEventType));
  });

  it('recognises stored account events by type', () => {
    expect(isAccountEvent({ type: 'SubaccountAdded', data: {} })).toBe(true);
    expect(isAccountEvent({ type: 'SomethingElse', data: {} })).toBe(false);
  });

  it('folds stored events only in contiguous versions from 1: a gap, a repeat or a wrong start throws', () => {
    const at = (streamVersion: number, event: ReturnType<typeof subaccountAdded>) => ({ ...event, streamVersion });
    const created = { ...mainAccountCreated(), streamVersion: 1 };
    expect(fold([created, at(2, subaccountAdded()), at(3, subaccountAdded(OTHER_SUB_SID))])).toMatchObject({ version: 3 });
    for (const events of [
      [created, at(3, subaccountAdded())],
      [created, at(2, subaccountAdded()), at(2, subaccountAdded(OTHER_SUB_SID))],
      [{ ...mainAccountCreated(), streamVersion: 2 }],
    ]) {
      expect(() => fold(events)).toThrow(StreamVersionGapError);
    }
    expect(() => fold([created, at(3, subaccountAdded())])).toThrow(`account ${MAIN_SID}: SubaccountAdded is at version 3 where version 2 comes next`);
    // Folding on from a state continues its numbering.
    expect(fold([at(2, subaccountAdded())], given(mainAccountCreated()))).toMatchObject({ version: 2 });
    expect(() => fold([at(3, subaccountAdded())], given(mainAccountCreated()))).toThrow(StreamVersionGapError);
  });
});
