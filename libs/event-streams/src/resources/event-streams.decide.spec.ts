import * as decide from './event-streams.decide';
import type { EventStreamsState } from './event-streams.decide';
import type { EventTypeDefinition } from '../catalog';
import { reasonOf } from './event-streams.fixtures';
import type { EventTypeCatalog } from './event-type-catalog';
import { parseSinkConfiguration } from './sink-configuration';

const AC = 'AC' + 'a'.repeat(32);
const DG = (n: number) => 'DG' + n.toString(16).padStart(32, '0');
const DF = (n: number) => 'DF' + n.toString(16).padStart(32, '0');
const at = new Date('2026-12-05T00:00:00Z');

/** A catalogue of the test's own: the decisions do not depend on our published type names. */
const typeName = (name: string) => name as EventTypeDefinition['type'];
const catalog: EventTypeCatalog = {
  types: [
    { type: typeName('com.example.a'), schemaId: 'Ex.A', description: 'a', status: 'available', documentationUrl: null, dateCreated: at, dateUpdated: at },
    { type: typeName('com.example.b'), schemaId: 'Ex.B', description: 'b', status: 'deprecated', documentationUrl: null, dateCreated: at, dateUpdated: at },
    { type: typeName('com.example.gone'), schemaId: 'Ex.A', description: 'gone', status: 'discontinued', documentationUrl: null, dateCreated: at, dateUpdated: at },
  ],
  schemaVersions: [
    { schemaId: 'Ex.A', version: 2, dateCreated: at, schema: {} },
    { schemaId: 'Ex.A', version: 1, dateCreated: at, schema: {} },
    { schemaId: 'Ex.B', version: 1, dateCreated: at, schema: {} },
  ],
};

type SinkState = { status: 'initialized' | 'validating' | 'active' | 'failed'; testId: string | null; subscriptionSid: string | null };

function given(sinks: Record<string, Partial<SinkState>> = {}, subscriptions: Record<string, { sinkSid: string; types: Record<string, number> }> = {}): EventStreamsState {
  return {
    accountSid: AC,
    sinks: new Map(Object.entries(sinks).map(([sid, s]) => [sid, { status: 'active', testId: null, subscriptionSid: null, ...s }])),
    subscriptions: new Map(Object.entries(subscriptions).map(([sid, s]) => [sid, { sinkSid: s.sinkSid, types: new Map(Object.entries(s.types)) }])),
  };
}

const webhook = parseSinkConfiguration('webhook', '{"destination":"https://example.com/x","method":"POST","batch_events":false}');

describe('Event Streams decisions', () => {
  it('given no sinks, when one is created, then SinkCreated, active, with the account and its owner', () => {
    const [event] = decide.createSink({ sinkSid: DG(1), ownerAccountSid: AC, description: 'd', parsed: webhook, destinationPasswordSealed: null }, given());
    expect(event).toEqual({
      type: 'SinkCreated',
      data: expect.objectContaining({ sinkSid: DG(1), accountSid: AC, ownerAccountSid: AC, status: 'active', sinkType: 'webhook', sinkConfiguration: webhook.configuration }),
    });
  });

  it('the sink cap counts the account’s sinks (100 refused, 99 not)', () => {
    const sinks = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [DG(i), {}]));
    const input = { sinkSid: DG(999), ownerAccountSid: AC, description: 'd', parsed: webhook, destinationPasswordSealed: null };
    expect(decide.createSink(input, given(sinks(decide.MAX_SINKS_PER_ACCOUNT - 1)))).toHaveLength(1);
    expect(reasonOf(() => decide.createSink(input, given(sinks(decide.MAX_SINKS_PER_ACCOUNT))))).toBe('sink_limit');
  });

  it('descriptions: empty or blank refused, 255 code points pass, 256 refused', () => {
    expect(reasonOf(() => decide.checkDescription(' \t', 'sink'))).toBe('sink_description_invalid');
    expect(reasonOf(() => decide.checkDescription('', 'subscription'))).toBe('subscription_description_invalid');
    expect(decide.checkDescription('😀'.repeat(255), 'sink')).toHaveLength(510);
    expect(reasonOf(() => decide.checkDescription('x'.repeat(256), 'sink'))).toBe('sink_description_invalid');
  });

  it('update: unknown sink refused, same description nothing, a new one SinkDescriptionChanged', () => {
    const state = given({ [DG(1)]: {} });
    expect(reasonOf(() => decide.updateSink({ sinkSid: DG(2), description: 'x', previous: 'x' }, state))).toBe('sink_not_found');
    expect(decide.updateSink({ sinkSid: DG(1), description: 'a', previous: 'a' }, state)).toEqual([]);
    expect(decide.updateSink({ sinkSid: DG(1), description: 'b', previous: 'a' }, state)).toEqual([
      { type: 'SinkDescriptionChanged', data: { sinkSid: DG(1), previous: 'a', description: 'b' } },
    ]);
  });

  it('a sink with a subscription is not deleted (in use); without one it is', () => {
    expect(reasonOf(() => decide.deleteSink({ sinkSid: DG(1) }, given({ [DG(1)]: { subscriptionSid: DF(1) } })))).toBe('sink_in_use');
    expect(decide.deleteSink({ sinkSid: DG(1) }, given({ [DG(1)]: {} }))).toEqual([{ type: 'SinkDeleted', data: { sinkSid: DG(1) } }]);
  });

  it('Validate before any Test: test not found; with another id: invalid; with the last id: SinkValidated', () => {
    expect(reasonOf(() => decide.validateSink({ sinkSid: DG(1), testId: 't' }, given({ [DG(1)]: {} })))).toBe('test_not_found');
    const testing = given({ [DG(1)]: { status: 'validating', testId: 't2' } });
    expect(reasonOf(() => decide.validateSink({ sinkSid: DG(1), testId: 't1' }, testing))).toBe('test_id_invalid');
    expect(decide.validateSink({ sinkSid: DG(1), testId: 't2' }, testing)).toEqual([{ type: 'SinkValidated', data: { sinkSid: DG(1), testId: 't2' } }]);
    expect(decide.startSinkTest({ sinkSid: DG(1), testId: 't3' }, testing)).toEqual([{ type: 'SinkTestStarted', data: { sinkSid: DG(1), testId: 't3' } }]);
  });

  describe('subscriptions', () => {
    const input = (types: { type: string; schemaVersion?: number }[], sinkSid = DG(1)) => ({ subscriptionSid: DF(1), ownerAccountSid: AC, sinkSid, description: 'd', types });

    it('types resolve against the catalog: no version is the latest; deprecated types are taken', () => {
      const [event] = decide.createSubscription(input([{ type: 'com.example.a' }, { type: 'com.example.b', schemaVersion: 1 }]), given({ [DG(1)]: {} }), catalog);
      expect(event).toMatchObject({
        type: 'SubscriptionCreated',
        data: { sinkSid: DG(1), accountSid: AC, types: [{ type: 'com.example.a', schemaVersion: 2 }, { type: 'com.example.b', schemaVersion: 1 }] },
      });
    });

    it.each([
      ['an unknown sink (another account’s included)', input([{ type: 'com.example.a' }], DG(9)), 'sink_not_found'],
      ['no types', input([]), 'subscription_types_empty'],
      ['a type twice', input([{ type: 'com.example.a' }, { type: 'com.example.a', schemaVersion: 1 }]), 'subscription_types_duplicate'],
      ['an unknown type', input([{ type: 'com.example.nope' }]), 'event_type_not_found'],
      ['a discontinued type', input([{ type: 'com.example.gone' }]), 'event_type_discontinued'],
      ['a version the schema does not have', input([{ type: 'com.example.a', schemaVersion: 3 }]), 'schema_version_not_found'],
    ])('refuses %s', (_, given_, reason) => {
      expect(reasonOf(() => decide.createSubscription(given_, given({ [DG(1)]: {} }), catalog))).toBe(reason);
    });

    it('the sink must be active and not already subscribed', () => {
      for (const status of ['initialized', 'validating', 'failed'] as const) {
        expect(reasonOf(() => decide.createSubscription(input([{ type: 'com.example.a' }]), given({ [DG(1)]: { status } }), catalog))).toBe('sink_not_active');
      }
      expect(reasonOf(() => decide.createSubscription(input([{ type: 'com.example.a' }]), given({ [DG(1)]: { subscriptionSid: DF(7) } }), catalog))).toBe('sink_in_use');
    });

    const subscribed = () => given({ [DG(1)]: { subscriptionSid: DF(1) } }, { [DF(1)]: { sinkSid: DG(1), types: { 'com.example.a': 1 } } });

    it('subscribed events: add (latest by default), duplicate refused, change version, same version nothing', () => {
      expect(decide.addSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.b' }, subscribed(), catalog)).toEqual([
        { type: 'SubscribedEventAdded', data: { subscriptionSid: DF(1), type: 'com.example.b', schemaVersion: 1 } },
      ]);
      expect(reasonOf(() => decide.addSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.a' }, subscribed(), catalog))).toBe('subscription_types_duplicate');
      expect(decide.updateSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.a' }, subscribed(), catalog)).toEqual([
        { type: 'SubscribedEventVersionChanged', data: { subscriptionSid: DF(1), type: 'com.example.a', previous: 1, schemaVersion: 2 } },
      ]);
      expect(decide.updateSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.a', schemaVersion: 1 }, subscribed(), catalog)).toEqual([]);
      expect(reasonOf(() => decide.updateSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.b' }, subscribed(), catalog))).toBe('subscribed_event_not_found');
    });

    it('the last type cannot be removed; an unknown subscription is not found', () => {
      expect(reasonOf(() => decide.removeSubscribedEvent({ subscriptionSid: DF(1), type: 'com.example.a' }, subscribed()))).toBe('subscription_types_empty');
      expect(reasonOf(() => decide.deleteSubscription({ subscriptionSid: DF(2) }, subscribed()))).toBe('subscription_not_found');
      expect(decide.deleteSubscription({ subscriptionSid: DF(1) }, subscribed())).toEqual([{ type: 'SubscriptionDeleted', data: { subscriptionSid: DF(1), sinkSid: DG(1) } }]);
    });
  });
});
