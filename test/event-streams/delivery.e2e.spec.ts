import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { CommandBus } from '@nestjs/cqrs';
import { MainAccountOperationCommand, OPERATOR, type AccountRecord } from '@accountable/accounts';
import {
  DeliveryService,
  EVENT_TYPES,
  EventStreamsCommands,
  EventStreamsReader,
  SCHEMA_VERSIONS,
  StreamEventType,
  eventTypeDefinition,
  latestSchemaVersion,
  parseSinkConfiguration,
  type EventTypeCatalog,
  type SinkRecord,
} from '@accountable/event-streams';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import type { Credentials } from '../api/accounts-api.helpers';
import { eventsClient } from './event-streams.helpers';

const CATALOG: EventTypeCatalog = { types: EVENT_TYPES, schemaVersions: SCHEMA_VERSIONS };
const ALL_TYPES = EVENT_TYPES.map((d) => ({ type: d.type }));

describe('Event Streams delivery to webhooks', () => {
  let t: TestApp;
  let main: AccountRecord;
  const receivers: WebhookReceiver[] = [];
  const receiver = async (...args: Parameters<typeof startWebhookReceiver>) => {
    const r = await startWebhookReceiver(...args);
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    main = await t.createMain('Main', 'Trial');
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  /** A webhook sink and its subscription to `types` (every type by default), made with twilio-node. */
  async function subscribedSink(owner: Credentials, destination: string, options: { batch?: boolean; types?: { type: string }[] } = {}): Promise<SinkRecord> {
    const events = eventsClient(t, owner).events.v1;
    const created = await events.sinks.create({
      description: 'delivery test',
      sinkType: 'webhook',
      sinkConfiguration: { destination, method: 'POST', batch_events: options.batch ?? false },
    });
    await events.subscriptions.create({ description: 'all', sinkSid: created.sid, types: options.types ?? ALL_TYPES });
    await t.app.get(DeliveryService).refresh();
    return (await t.app.get(EventStreamsReader).sink(created.sid))!;
  }

  /** Until the sink's delivery checkpoint has passed every event stored so far. */
  async function caughtUp(sinkSid: string): Promise<void> {
    await eventually(
      async () =>
        (
          await t.database.pool.query<{ behind: boolean }>(
            `SELECT (c.transaction_id, c.global_position) < (h.transaction_id, h.global_position) AS behind
               FROM projection_checkpoints c,
                    (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) h
              WHERE c.name = $1`,
            [`sink:${sinkSid}`],
          )
        ).rows[0]?.behind,
      (behind) => behind === false,
      30_000,
      `sink ${sinkSid} caught up`,
    );
  }

  it('every account change arrives once, in order, as a CloudEvent signed for twilio-node, its data valid against its schema', async () => {
    const hook = await receiver();
    await subscribedSink(main, hook.url('/hook?tenant=main'));
    const client = eventsClient(t, main);

    // Upgraded before it has subaccounts: an upgrade cascades to them, from the projector, in no fixed order with what follows.
    await t.app.get(CommandBus).execute(new MainAccountOperationCommand(main.sid, 'upgrade', OPERATOR));
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'Sub' });
    await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'Sub renamed' });
    await client.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    await client.api.v2010.accounts(sub.sid).update({ status: 'active' });
    const key = await client.api.v2010.accounts(main.sid).newKeys.create({ friendlyName: 'deploy' });
    await client.api.v2010.accounts(main.sid).keys(key.sid).update({ friendlyName: 'deploy 2' });
    await client.api.v2010.accounts(main.sid).keys(key.sid).remove();
    const subClient = eventsClient(t, { sid: sub.sid, authToken: sub.authToken });
    await subClient.accounts.v1.secondaryAuthToken().create();
    await subClient.accounts.v1.secondaryAuthToken().remove();
    const next = await subClient.accounts.v1.secondaryAuthToken().create();
    await eventsClient(t, { sid: sub.sid, authToken: next.secondaryAuthToken }).accounts.v1.authTokenPromotion().update();
    await client.api.v2010.accounts(sub.sid).update({ status: 'closed' });

    const T = StreamEventType;
    const expected = [
      [T.AccountUpgraded, main.sid],
      [T.AccountCreated, sub.sid],
      [T.AccountRenamed, sub.sid],
      [T.AccountStatusChanged, sub.sid],
      [T.AccountStatusChanged, sub.sid],
      [T.ApiKeyCreated, main.sid],
      [T.ApiKeyRenamed, main.sid],
      [T.ApiKeyDeleted, main.sid],
      [T.SecondaryAuthTokenCreated, sub.sid],
      [T.SecondaryAuthTokenDeleted, sub.sid],
      [T.SecondaryAuthTokenCreated, sub.sid],
      [T.AuthTokenPromoted, sub.sid],
      [T.AccountClosed, sub.sid],
    ];
    const events = await eventually(() => hook.delivered(), (d) => d.length >= expected.length, 30_000, 'every change delivered');
    expect(events.map((e) => [e.type, e.data.resource_sid])).toEqual(expected);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);

    // Each request: one event (batch_events false), signed with the main account's token over the URL as received.
    for (const request of hook.requests) {
      expect(request.events).toHaveLength(1);
      expect(request.path).toMatch(/^\/hook\?tenant=main&bodySHA256=[0-9a-f]{64}$/);
      expect(hook.valid(request, main.authToken)).toBe(true);
      expect(hook.valid(request, sub.authToken)).toBe(false);
    }

    const ajv = addFormats(new Ajv2020({ strict: true }));
    // Delivery does not wait for the audit projection (each runs from the feed on its own): the
    // Monitor list is read once it holds every delivered event.
    const monitor = await eventually(
      () => client.monitor.v1.events.list({ limit: 100 }),
      (list) => events.every((e) => list.some((m) => m.sid === e.id)),
      30_000,
      'every delivered event in /v1/Events',
    );
    for (const event of events) {
      expect(Object.keys(event).sort()).toEqual(['data', 'datacontenttype', 'dataschema', 'id', 'source', 'specversion', 'time', 'type']);
      expect(event).toMatchObject({ specversion: '1.0', datacontenttype: 'application/json', source: `/2010-04-01/Accounts/${event.data.resource_sid}.json` });
      const definition = eventTypeDefinition(event.type)!;
      const version = latestSchemaVersion(definition.schemaId)!;
      expect(event.dataschema).toBe(`${t.baseUrl}/v1/Schemas/${definition.schemaId}/Versions/${version.version}/Raw`);
      expect(ajv.validate(version.schema, event.data) ? [] : ajv.errors).toEqual([]);
      // data is the Monitor event itself, as /v1/Events shows it.
      expect(event.id).toBe(event.data.sid);
      expect(monitor.find((m) => m.sid === event.id)?.eventData).toEqual(event.data.event_data);
      expect(event.data.account_sid).toBe(main.sid);
    }
  });

  it("a subaccount's sink receives its own changes only, never a sibling's; its main account's sink receives both", async () => {
    const client = eventsClient(t, main);
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'Own' });
    const sibling = await client.api.v2010.accounts.create({ friendlyName: 'Sibling' });
    const subHook = await receiver();
    const mainHook = await receiver();
    const subSink = await subscribedSink({ sid: sub.sid, authToken: sub.authToken }, subHook.url(), { batch: true });
    await subscribedSink(main, mainHook.url(), { batch: true, types: [{ type: StreamEventType.AccountRenamed }] });

    await client.api.v2010.accounts(sibling.sid).update({ friendlyName: 'Sibling 2' });
    await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'Own 2' });
    await client.api.v2010.accounts(sibling.sid).update({ friendlyName: 'Sibling 3' });

    const seen = await eventually(() => mainHook.delivered(), (d) => d.length >= 3, 30_000, "the main account's sink");
    expect(seen.map((e) => e.data.resource_sid)).toEqual([sibling.sid, sub.sid, sibling.sid]);
    // The subaccount's sink, past every event: its own change, signed with its own token; the sibling's never.
    await caughtUp(subSink.sid);
    expect(subHook.delivered().map((e) => [e.type, e.data.resource_sid])).toEqual([[StreamEventType.AccountRenamed, sub.sid]]);
    expect(subHook.requests.every((r) => subHook.valid(r, sub.authToken))).toBe(true);
  });

  it('retries a 500 with backoff and delivers the same event (same id) when the receiver recovers', async () => {
    const hook = await receiver((_request, n) => (n === 0 ? 500 : 200));
    const sink = await subscribedSink(main, hook.url());
    await eventsClient(t, main).api.v2010.accounts(main.sid).update({ friendlyName: 'Retried' });
    const delivered = await eventually(() => hook.delivered(), (d) => d.length >= 1, 30_000, 'the retried delivery');
    expect(hook.requests.map((r) => r.status)).toEqual([500, 200]);
    expect(hook.requests[0].events[0].id).toBe(delivered[0].id);
    // Counted once the feed batch is done, just after the receiver has it.
    const row = await eventually(
      async () => (await t.database.pool.query(`SELECT failure_count, delivered_count, last_failure_code, status FROM event_sinks WHERE sid = $1`, [sink.sid])).rows[0],
      (r) => Number(r.delivered_count) >= 1,
      10_000,
      'the delivered count',
    );
    expect(row).toMatchObject({ failure_count: 0, delivered_count: 1, last_failure_code: 91306, status: 'active' });
  });

  it('a receiver that never answers does not delay another sink', async () => {
    const dead = await receiver(() => null);
    const alive = await receiver();
    const deadSink = await subscribedSink(main, dead.url());
    await subscribedSink(main, alive.url());
    await eventsClient(t, main).api.v2010.accounts(main.sid).update({ friendlyName: 'Independent' });
    // The dead receiver holds the sink's first request (and then its retries, for hours)...
    await eventually(() => dead.requests.length, (n) => n >= 1, 30_000, 'the dead sink stuck');
    // ...while the other sink delivers.
    const received = await eventually(() => alive.delivered(), (d) => d.length >= 1, 30_000, 'the live sink');
    expect(received.map((e) => e.type)).toEqual([StreamEventType.AccountRenamed]);
    const row = await t.database.pool.query(`SELECT delivered_count FROM event_sinks WHERE sid = $1`, [deadSink.sid]);
    expect(row.rows[0].delivered_count).toBe(0);
  });

  it('a destination the egress guard refuses is never connected to: the event is dropped and recorded', async () => {
    const hook = await receiver();
    // 127.0.0.2 is loopback, and EGRESS_ALLOW lists 127.0.0.1 only. Created without the API's own check, as a sink stored before a policy change would be.
    const commands = t.app.get(EventStreamsCommands);
    const refused = await commands.createSink(
      { accountSid: main.sid, ownerAccountSid: main.sid, description: 'ssrf', parsed: parseSinkConfiguration('webhook', { destination: hook.url().replace('127.0.0.1', '127.0.0.2'), method: 'POST', batch_events: false }) },
      OPERATOR,
    );
    await commands.createSubscription({ accountSid: main.sid, ownerAccountSid: main.sid, sinkSid: refused.sid, description: 'all', types: ALL_TYPES }, CATALOG, OPERATOR);
    await t.app.get(DeliveryService).refresh();
    await eventsClient(t, main).api.v2010.accounts(main.sid).update({ friendlyName: 'Refused' });
    const row = await eventually(
      async () => (await t.database.pool.query(`SELECT dropped_count, last_failure_code, last_failure_message FROM event_sinks WHERE sid = $1`, [refused.sid])).rows[0],
      (r) => r.dropped_count === 1,
      30_000,
      'the drop',
    );
    expect(row).toMatchObject({ last_failure_code: 91300, last_failure_message: expect.stringMatching(/127\.0\.0\.2 is refused: loopback address/) });
    const parked = await t.database.pool.query(`SELECT event_type, error_code FROM projection_parked_events WHERE projection = $1`, [`sink:${refused.sid}`]);
    expect(parked.rows).toEqual([{ event_type: 'AccountRenamed', error_code: '91300' }]);
    expect(hook.requests).toEqual([]);
  });
});
