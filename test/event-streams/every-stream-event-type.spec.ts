import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { AccountEventType, accountStreamId, auditEntryOf, type AccountEvent } from '@accountable/accounts';
import type { RecordedEvent } from '@accountable/event-store';
import { EVENT_TYPES, SCHEMA_VERSIONS, eventTypeDefinition, latestSchemaVersion, streamEventTypeOf } from '@accountable/event-streams';
import { toMonitorEvent } from '@accountable/twilio';

/**
 * Every account event type against the Event Streams catalogue: an account change Monitor
 * records is delivered as one of our types, whose published schema its `data` (the Monitor
 * event) satisfies; nothing else is delivered. A new event type fails here (and does not
 * compile) until it is mapped.
 */
const MAIN = `AC${'1'.repeat(32)}`;
const SUB = `AC${'2'.repeat(32)}`;
const KEY = `SK${'3'.repeat(32)}`;

const SAMPLES: Record<AccountEventType, AccountEvent[]> = {
  MainAccountCreated: [{ type: 'MainAccountCreated', data: { sid: MAIN, friendlyName: 'Main', type: 'Trial', authToken: 'sealed' } }],
  SubaccountCreated: [{ type: 'SubaccountCreated', data: { sid: SUB, ownerAccountSid: MAIN, friendlyName: 'Sub', type: 'Full', authToken: 'sealed' } }],
  SubaccountAdded: [{ type: 'SubaccountAdded', data: { subaccountSid: SUB } }],
  SubaccountReleased: [{ type: 'SubaccountReleased', data: { subaccountSid: SUB } }],
  AccountRenamed: [{ type: 'AccountRenamed', data: { previous: 'Main', friendlyName: 'Renamed' } }],
  AccountStatusChanged: [
    { type: 'AccountStatusChanged', data: { previous: 'active', status: 'suspended', reason: 'owner_suspended' } },
    { type: 'AccountStatusChanged', data: { previous: 'suspended', status: 'active', reason: 'requested' } },
    { type: 'AccountStatusChanged', data: { previous: 'suspended', status: 'closed', reason: 'operator' } },
  ],
  AccountUpgraded: [{ type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } }],
  ApiKeyCreated: [
    { type: 'ApiKeyCreated', data: { keySid: KEY, friendlyName: 'k', secretVerifier: 'v1.salt.hash' } },
    { type: 'ApiKeyCreated', data: { keySid: KEY, friendlyName: null, secretVerifier: 'v1.salt.hash' } },
  ],
  ApiKeyRenamed: [{ type: 'ApiKeyRenamed', data: { keySid: KEY, previous: null, friendlyName: 'k2' } }],
  ApiKeyDeleted: [{ type: 'ApiKeyDeleted', data: { keySid: KEY, friendlyName: 'k2' } }],
  SecondaryAuthTokenCreated: [{ type: 'SecondaryAuthTokenCreated', data: { authToken: 'sealed 2', replaced: true } }],
  SecondaryAuthTokenDeleted: [{ type: 'SecondaryAuthTokenDeleted', data: {} }],
  AuthTokenPromoted: [{ type: 'AuthTokenPromoted', data: {} }],
};

const recorded = (event: AccountEvent, n: number): RecordedEvent => ({
  globalPosition: n,
  transactionId: String(1000 + n),
  streamId: accountStreamId(event.type === 'SubaccountCreated' ? SUB : MAIN),
  streamVersion: n,
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  type: event.type,
  schemaVersion: 1,
  data: event.data as Record<string, unknown>,
  metadata: { actorType: 'account', actorSid: MAIN, source: 'api', sourceIp: '203.0.113.9' },
  recordedAt: new Date('2026-12-05T15:00:00.123Z'),
});

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);

describe('Event Streams catalogue', () => {
  const cases = Object.values(AccountEventType).flatMap((type) => SAMPLES[type].map((event) => [type, event] as const));
  let n = 0;

  it.each(cases)('%s: delivered exactly when Monitor records it, with data its schema accepts', (_type, event) => {
    const stored = recorded(event, ++n);
    const entry = auditEntryOf(stored);
    const streamType = streamEventTypeOf(event);
    expect(streamType === null).toBe(entry === null);
    if (!entry || !streamType) return;
    const definition = eventTypeDefinition(streamType)!;
    const schema = latestSchemaVersion(definition.schemaId)!;
    const data = toMonitorEvent({ ...entry, accountSid: MAIN }, 'https://api.example.com');
    const validate = ajv.compile(schema.schema);
    const valid = validate(data);
    expect(valid ? [] : validate.errors).toEqual([]);
  });

  it('every published type is delivered for some account change, and has a schema', () => {
    const delivered = new Set(cases.map(([, event]) => streamEventTypeOf(event)));
    for (const definition of EVENT_TYPES) {
      expect(delivered.has(definition.type)).toBe(true);
      expect(latestSchemaVersion(definition.schemaId)).toBeDefined();
    }
    expect(new Set(SCHEMA_VERSIONS.map((v) => `${v.schemaId}/${v.version}`)).size).toBe(SCHEMA_VERSIONS.length);
    expect(new Set(EVENT_TYPES.map((d) => d.type)).size).toBe(EVENT_TYPES.length);
  });

  it("a schema refuses data of another type's shape", () => {
    const renamed = latestSchemaVersion('Iam.AccountRenamed')!.schema;
    const closed = auditEntryOf(recorded(SAMPLES.AccountStatusChanged[2], 99))!;
    expect(ajv.validate(renamed, toMonitorEvent({ ...closed, accountSid: MAIN }, 'https://api.example.com'))).toBe(false);
  });
});
