import { AccountEventType, type AccountEvent, type AccountStatus, type AccountType } from './account.events';

export interface Account {
  readonly sid: string;
  /** A main account owns itself, as on the wire. */
  readonly ownerAccountSid: string;
  readonly isMain: boolean;
  readonly friendlyName: string;
  readonly type: AccountType;
  readonly status: AccountStatus;
  readonly authToken: string;
  /** Sealed, like authToken; null when there is none. */
  readonly secondaryAuthToken: string | null;
  /** Set only by the owner-suspension cascade, so reactivating the owner restores exactly those. */
  readonly suspendedByOwner: boolean;
  /**
   * Main accounts only: subaccounts added and not yet released (closed ones don't count). A count,
   * as the read-model row keeps it, so that the row is an exact snapshot of this state and an
   * owner's decisions never fold its ever-growing stream; which subaccounts they are, the owner
   * cascade reads from the stream (openSubaccountsOf).
   */
  readonly openSubaccountCount: number;
  /** Live API keys: sid → friendly name. Their secrets' verifiers live in the read model only. */
  readonly apiKeys: Readonly<Record<string, string | null>>;
  /** From the store's `recordedAt`; absent when folded from events without it. */
  readonly createdAt?: Date;
  /** Changes with the account's own fields, not with SubaccountAdded/Released bookkeeping (our choice). */
  readonly updatedAt?: Date;
  /** Events folded so far: the expected version for the next append to this stream. */
  readonly version: number;
}

/** null: the stream does not exist. */
export type AccountState = Account | null;

export const initialState: AccountState = null;

/**
 * A stored event as read back: the store's time and the event's stream version ride alongside
 * the data. With `streamVersion`, a fold checks that the versions run on without a gap.
 */
export type AccountEventEnvelope = AccountEvent & { readonly recordedAt?: Date; readonly streamVersion?: number };

/** Events folded out of version order or with one missing: the state would be one that never existed. */
export class StreamVersionGapError extends Error {
  override readonly name = 'StreamVersionGapError';
}

/**
 * Time comes from the store (`recordedAt`), never from the event data, so one clock dates every
 * event and replays are reproducible. Impossible sequences mean a corrupt stream and throw.
 */
export function evolve(state: AccountState, event: AccountEvent, recordedAt?: Date): AccountState {
  switch (event.type) {
    case AccountEventType.MainAccountCreated:
      return created(state, event.type, { ...event.data, ownerAccountSid: event.data.sid, isMain: true }, recordedAt);
    case AccountEventType.SubaccountCreated:
      return created(state, event.type, { ...event.data, isMain: false }, recordedAt);
  }

  if (state === null) throw new Error(`${event.type} on a stream that was never created`);
  const next = { ...state, version: state.version + 1 };
  const touched = { ...next, updatedAt: recordedAt ?? state.updatedAt };

  switch (event.type) {
    case AccountEventType.SubaccountAdded:
      return { ...next, openSubaccountCount: state.openSubaccountCount + 1 };
    case AccountEventType.SubaccountReleased:
      return { ...next, openSubaccountCount: Math.max(state.openSubaccountCount - 1, 0) };
    case AccountEventType.AccountRenamed:
      return { ...touched, friendlyName: event.data.friendlyName };
    case AccountEventType.AccountStatusChanged:
      return {
        ...touched,
        status: event.data.status,
        suspendedByOwner: event.data.status === 'suspended' && event.data.reason === 'owner_suspended',
      };
    case AccountEventType.AccountUpgraded:
      return { ...touched, type: event.data.type };
    // Keys are resources of their own: the account's date_updated does not move (our choice).
    case AccountEventType.ApiKeyCreated:
    case AccountEventType.ApiKeyRenamed:
      return { ...next, apiKeys: { ...state.apiKeys, [event.data.keySid]: event.data.friendlyName } };
    case AccountEventType.SecondaryAuthTokenCreated:
      return { ...next, secondaryAuthToken: event.data.authToken };
    case AccountEventType.SecondaryAuthTokenDeleted:
      return { ...next, secondaryAuthToken: null };
    // The Account resource shows the token, so its date_updated moves.
    case AccountEventType.AuthTokenPromoted:
      if (state.secondaryAuthToken === null) throw new Error(`AuthTokenPromoted on ${state.sid} without a secondary token`);
      return { ...touched, authToken: state.secondaryAuthToken, secondaryAuthToken: null };
    case AccountEventType.ApiKeyDeleted: {
      const { [event.data.keySid]: _deleted, ...apiKeys } = state.apiKeys;
      return { ...next, apiKeys };
    }
  }
}

function created(
  state: AccountState,
  type: AccountEventType,
  account: Pick<Account, 'sid' | 'ownerAccountSid' | 'isMain' | 'friendlyName' | 'type' | 'authToken'>,
  recordedAt: Date | undefined,
): Account {
  if (state !== null) throw new Error(`${type} on the existing stream of ${state.sid}`);
  return {
    sid: account.sid,
    ownerAccountSid: account.ownerAccountSid,
    isMain: account.isMain,
    friendlyName: account.friendlyName,
    type: account.type,
    authToken: account.authToken,
    secondaryAuthToken: null,
    status: 'active',
    suspendedByOwner: false,
    openSubaccountCount: 0,
    apiKeys: {},
    createdAt: recordedAt,
    updatedAt: recordedAt,
    version: 1,
  };
}

/** `evolve` for the next stored event of the stream: its version must be the state's + 1 (1 for a creation). */
export function evolveNext(state: AccountState, event: AccountEventEnvelope): AccountState {
  const expected = (state?.version ?? 0) + 1;
  if (event.streamVersion !== undefined && event.streamVersion !== expected) {
    throw new StreamVersionGapError(
      `${state ? `account ${state.sid}` : 'a new account'}: ${event.type} is at version ${event.streamVersion} where version ${expected} comes next; ` +
        'the stream was read with a version missing or out of order',
    );
  }
  return evolve(state, event, event.recordedAt);
}

export function fold(events: Iterable<AccountEventEnvelope>, from: AccountState = initialState): AccountState {
  let state = from;
  for (const event of events) state = evolveNext(state, event);
  return state;
}
