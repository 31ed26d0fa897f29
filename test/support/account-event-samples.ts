import { AccountEventType, type AccountEvent } from '@accountable/accounts';

/**
 * One stored event of each account event type, with the history it follows on its stream: what
 * the specs that walk every event type feed each path. A Record over every type, so a new type
 * does not compile until it has a sample here.
 */
export const MAIN = `AC${'1'.repeat(32)}`;
export const SUB = `AC${'2'.repeat(32)}`;
const KEY = `SK${'3'.repeat(32)}`;

const created: AccountEvent = { type: AccountEventType.MainAccountCreated, data: { sid: MAIN, friendlyName: 'Main', type: 'Trial', authToken: 'sealed' } };
const added: AccountEvent = { type: AccountEventType.SubaccountAdded, data: { subaccountSid: SUB } };
const keyCreated: AccountEvent = { type: AccountEventType.ApiKeyCreated, data: { keySid: KEY, friendlyName: 'k', secretVerifier: 'v1.salt.hash' } };
const secondaryCreated: AccountEvent = { type: AccountEventType.SecondaryAuthTokenCreated, data: { authToken: 'sealed 2', replaced: false } };

export interface EventSample {
  /** The stream's account. */
  sid: string;
  before: AccountEvent[];
  event: AccountEvent;
}

export const EVENT_SAMPLES: Record<AccountEventType, EventSample> = {
  MainAccountCreated: { sid: MAIN, before: [], event: created },
  SubaccountCreated: {
    sid: SUB,
    before: [],
    event: { type: AccountEventType.SubaccountCreated, data: { sid: SUB, ownerAccountSid: MAIN, friendlyName: 'Sub', type: 'Full', authToken: 'sealed' } },
  },
  SubaccountAdded: { sid: MAIN, before: [created], event: added },
  SubaccountReleased: { sid: MAIN, before: [created, added], event: { type: AccountEventType.SubaccountReleased, data: { subaccountSid: SUB } } },
  AccountRenamed: { sid: MAIN, before: [created], event: { type: AccountEventType.AccountRenamed, data: { previous: 'Main', friendlyName: 'Renamed' } } },
  AccountStatusChanged: {
    sid: MAIN,
    before: [created],
    event: { type: AccountEventType.AccountStatusChanged, data: { previous: 'active', status: 'suspended', reason: 'owner_suspended' } },
  },
  AccountUpgraded: { sid: MAIN, before: [created], event: { type: AccountEventType.AccountUpgraded, data: { previous: 'Trial', type: 'Full' } } },
  ApiKeyCreated: { sid: MAIN, before: [created], event: keyCreated },
  ApiKeyRenamed: {
    sid: MAIN,
    before: [created, keyCreated],
    event: { type: AccountEventType.ApiKeyRenamed, data: { keySid: KEY, previous: 'k', friendlyName: 'renamed' } },
  },
  ApiKeyDeleted: { sid: MAIN, before: [created, keyCreated], event: { type: AccountEventType.ApiKeyDeleted, data: { keySid: KEY, friendlyName: 'k' } } },
  SecondaryAuthTokenCreated: { sid: MAIN, before: [created], event: secondaryCreated },
  SecondaryAuthTokenDeleted: { sid: MAIN, before: [created, secondaryCreated], event: { type: AccountEventType.SecondaryAuthTokenDeleted, data: {} } },
  AuthTokenPromoted: { sid: MAIN, before: [created, secondaryCreated], event: { type: AccountEventType.AuthTokenPromoted, data: {} } },
};

/** Every account event type, from the domain's enumeration (not from the samples). */
export const EVERY_EVENT_TYPE: readonly AccountEventType[] = Object.values(AccountEventType);

/** The sample of `type`; fails for a type that has none (a new type, while the Record is not yet compiled). */
export function sampleOf(type: AccountEventType): EventSample & { version: number } {
  const sample = (EVENT_SAMPLES as Partial<Record<string, EventSample>>)[type];
  if (!sample) throw new Error(`no sample event of type ${type}: add one to EVENT_SAMPLES (test/support/account-event-samples.ts)`);
  return { ...sample, version: sample.before.length + 1 };
}
