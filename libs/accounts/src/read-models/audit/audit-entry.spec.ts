import type { RecordedEvent } from '@accountable/event-store';
import { auditEntryOf } from './audit-entry';

const MAIN = `AC${'1'.repeat(32)}`;
const SUB = `AC${'2'.repeat(32)}`;
const EVENT_ID = '0b5f3c1e-8a4d-4c2b-9e7f-1234567890ab';
const AT = new Date('2024-05-06T07:08:09.123Z');

function recorded(streamSid: string, type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}): RecordedEvent {
  return {
    globalPosition: 42,
    transactionId: '900',
    streamId: `account-${streamSid}`,
    streamVersion: 2,
    eventId: EVENT_ID,
    type,
    schemaVersion: 1,
    data,
    metadata,
    recordedAt: AT,
  };
}

const API = { actorType: 'account', actorSid: MAIN, source: 'api', sourceIp: '10.0.0.1', userAgent: 'ua', requestId: 'RQ1', correlationId: 'RQ1' };

describe('auditEntryOf', () => {
  it('turns a subaccount creation into account.created owned by its main account, without the auth token', () => {
    const entry = auditEntryOf(
      recorded(SUB, 'SubaccountCreated', { sid: SUB, ownerAccountSid: MAIN, friendlyName: 'n', type: 'Full', authToken: 'sealed' }, API),
    );
    expect(entry).toEqual({
      sid: 'AE0b5f3c1e8a4d4c2b9e7f1234567890ab',
      eventId: EVENT_ID,
      globalPosition: 42,
      ownerAccountSid: MAIN,
      resourceSid: SUB,
      resourceType: 'account',
      eventType: 'account.created',
      eventData: {
        friendly_name: { previous: null, updated: 'n' },
        status: { previous: null, updated: 'active' },
        type: { previous: null, updated: 'Full' },
      },
      actorType: 'account',
      actorSid: MAIN,
      source: 'api',
      sourceIpAddress: '10.0.0.1',
      userAgent: 'ua',
      requestId: 'RQ1',
      correlationId: 'RQ1',
      causationId: null,
      description: 'Subaccount created',
      eventDate: AT,
    });
    expect(JSON.stringify(entry)).not.toContain('sealed');
  });

  it('a main account owns itself', () => {
    const entry = auditEntryOf(recorded(MAIN, 'MainAccountCreated', { sid: MAIN, friendlyName: 'm', type: 'Trial', authToken: 'x' }, { actorType: 'operator', actorSid: null, source: 'cli' }));
    expect(entry).toMatchObject({ ownerAccountSid: MAIN, resourceSid: MAIN, actorType: 'operator', actorSid: null, source: 'cli', sourceIpAddress: null });
  });

  it.each([
    ['AccountRenamed', { previous: 'a', friendlyName: 'b' }, { friendly_name: { previous: 'a', updated: 'b' } }],
    ['AccountStatusChanged', { previous: 'active', status: 'suspended', reason: 'requested' }, { status: { previous: 'active', updated: 'suspended' } }],
    ['AccountUpgraded', { previous: 'Trial', type: 'Full' }, { type: { previous: 'Trial', updated: 'Full' } }],
  ])('%s becomes account.updated with {field: {previous, updated}}, owner left to the projection', (type, data, eventData) => {
    const entry = auditEntryOf(recorded(SUB, type, data, API))!;
    expect(entry).toMatchObject({ eventType: 'account.updated', eventData, ownerAccountSid: null, resourceSid: SUB });
  });

  it('a cascaded change is the system’s, caused by the parent event, and says why', () => {
    const entry = auditEntryOf(
      recorded(SUB, 'AccountStatusChanged', { previous: 'active', status: 'suspended', reason: 'owner_suspended' }, {
        actorType: 'system',
        actorSid: null,
        source: 'system',
        causationId: 'cause',
        correlationId: 'corr',
      }),
    )!;
    expect(entry).toMatchObject({ actorType: 'system', actorSid: null, source: 'system', causationId: 'cause', correlationId: 'corr' });
    expect(entry.description).toMatch(/owner account was suspended/);
  });

  it('an event without recorded actor or source is attributed to the system', () => {
    expect(auditEntryOf(recorded(SUB, 'AccountRenamed', { previous: 'a', friendlyName: 'b' }))).toMatchObject({
      actorType: 'system',
      actorSid: null,
      source: 'system',
      sourceIpAddress: null,
    });
  });

  it.each([
    ['owner-stream bookkeeping: SubaccountAdded', recorded(MAIN, 'SubaccountAdded', { subaccountSid: SUB })],
    ['owner-stream bookkeeping: SubaccountReleased', recorded(MAIN, 'SubaccountReleased', { subaccountSid: SUB })],
    ['an unknown type', recorded(MAIN, 'SomethingElse', {})],
    ['another stream', { ...recorded(MAIN, 'AccountRenamed', { previous: 'a', friendlyName: 'b' }), streamId: 'other-1' }],
  ])('%s is not audited', (_, event) => {
    expect(auditEntryOf(event)).toBeNull();
  });
});
