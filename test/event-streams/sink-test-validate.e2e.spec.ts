import { randomUUID } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { OPERATOR, type AccountRecord } from '@accountable/accounts';
import { DeliveryService, EventStreamsCommands, EventStreamsReader, StreamEventType, parseSinkConfiguration } from '@accountable/event-streams';
import { startTestApp, type TestApp } from '../support/test-app';
import { NATS_URL, describeWithNats } from '../support/nats';
import { eventually, startWebhookReceiver, type ReceivedRequest, type WebhookReceiver } from '../support/webhook-receiver';
import { raw, restError, type Credentials } from '../api/accounts-api.helpers';
import { configurationEvents, eventsClient, sinkSpecAccounts, webhook } from './event-streams.helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface TestEvent {
  specversion: string;
  type: string;
  source: string;
  id: string;
  dataschema: string;
  datacontenttype: string;
  time: string;
  data: { test_id: string };
}

/** The test events a request carried (the webhook body is a JSON array of CloudEvents). */
const testEventsOf = (request: ReceivedRequest): TestEvent[] => request.events as unknown as TestEvent[];

describe('Sink Test/Validate (POST /v1/Sinks/{Sid}/Test and /Validate) through twilio-node, to a webhook receiver', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: Credentials;
  let sibling: Credentials;
  let stranger: AccountRecord;
  const receivers: WebhookReceiver[] = [];
  const receiver = async () => {
    const r = await startWebhookReceiver();
    receivers.push(r);
    return r;
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    ({ main, stranger, sub, sibling } = await sinkSpecAccounts(t));
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  const statusOf = async (sinkSid: string) => (await t.app.get(EventStreamsReader).sink(sinkSid))?.status;

  it('Test sends one signed test CloudEvent; its test id validates the sink; a wrong id is 91005 with the status unchanged', async () => {
    const hook = await receiver();
    const sinks = eventsClient(t, main).events.v1.sinks;
    const sink = await sinks.create({ description: 'handshake', sinkType: 'webhook', sinkConfiguration: webhook(hook.url('/hook?tenant=main')) });
    expect(sink.status).toBe('active');

    const submitted = await sinks(sink.sid).sinkTest.create();
    expect(submitted.result).toBe('submitted');
    expect(await statusOf(sink.sid)).toBe('validating');

    // Sent within the request: the receiver has it when Test answers.
    expect(hook.requests).toHaveLength(1);
    const [request] = hook.requests;
    expect(JSON.parse(request.body)).toHaveLength(1);
    expect(hook.valid(request, main.authToken)).toBe(true);
    expect(request.path).toMatch(/^\/hook\?tenant=main&bodySHA256=[0-9a-f]{64}$/);
    const [event] = testEventsOf(request);
    expect(Object.keys(event).sort()).toEqual(['data', 'datacontenttype', 'dataschema', 'id', 'source', 'specversion', 'time', 'type']);
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'com.twilio.eventstreams.test-event',
      source: 'Sink',
      id: main.sid,
      dataschema: 'https://events-schemas.twilio.com/EventStreams.TestSink/1.json',
      datacontenttype: 'application/json',
    });
    expect(Object.keys(event.data)).toEqual(['test_id']);
    expect(event.data.test_id).toMatch(UUID);

    expect(await restError(sinks(sink.sid).sinkValidate.create({ testId: randomUUID() }))).toMatchObject({ status: 400, code: 91005 });
    expect(await statusOf(sink.sid)).toBe('validating');

    const valid = await sinks(sink.sid).sinkValidate.create({ testId: event.data.test_id });
    expect(valid.result).toBe('valid');
    expect((await sinks(sink.sid).fetch()).status).toBe('active');
    // The id is spent: validating again needs a new Test.
    expect(await restError(sinks(sink.sid).sinkValidate.create({ testId: event.data.test_id }))).toMatchObject({ status: 400, code: 91004 });

    const events = await configurationEvents(t, main.sid);
    const handshake = events.filter((e) => e.data.sinkSid === sink.sid && e.type !== 'SinkCreated');
    expect(handshake.map((e) => [e.type, e.data.testId])).toEqual([
      ['SinkTestStarted', event.data.test_id],
      ['SinkValidated', event.data.test_id],
    ]);
    expect(handshake[1].metadata).toMatchObject({ actorType: 'account', actorSid: main.sid, source: 'api' });
  });

  it('Validate before any Test is 91004; without TestId 20001; the answers on the wire are 201 with Twilio’s result', async () => {
    const hook = await receiver();
    const sinks = eventsClient(t, main).events.v1.sinks;
    const sink = await sinks.create({ description: 'untested', sinkType: 'webhook', sinkConfiguration: webhook(hook.url()) });
    expect(await restError(sinks(sink.sid).sinkValidate.create({ testId: randomUUID() }))).toMatchObject({ status: 400, code: 91004 });
    expect(await statusOf(sink.sid)).toBe('active');

    const missing = await raw(t, `/v1/Sinks/${sink.sid}/Validate`, { as: main, body: {} });
    expect(missing.json).toMatchObject({ status: 400, code: 20001 });
    const twice = await raw(t, `/v1/Sinks/${sink.sid}/Validate`, { as: main, body: 'TestId=a&TestId=b' });
    expect(twice.json).toMatchObject({ status: 400, code: 20002 });

    // The sink's links are the routes: POST only.
    const links = (await raw(t, `/v1/Sinks/${sink.sid}`, { as: main })).json.links;
    const tested = await raw(t, new URL(links.sink_test).pathname, { as: main, method: 'POST' });
    expect([tested.status, tested.json]).toEqual([201, { result: 'submitted' }]);
    const testId = testEventsOf(hook.requests[0])[0].data.test_id;
    const validated = await raw(t, new URL(links.sink_validate).pathname, { as: main, body: { TestId: testId } });
    expect([validated.status, validated.json]).toEqual([201, { result: 'valid' }]);
    const get = await raw(t, new URL(links.sink_test).pathname, { as: main });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('a second Test supersedes the first test id', async () => {
    const hook = await receiver();
    const sinks = eventsClient(t, main).events.v1.sinks;
    const sink = await sinks.create({ description: 'retested', sinkType: 'webhook', sinkConfiguration: webhook(hook.url(), true) });
    await sinks(sink.sid).sinkTest.create();
    await sinks(sink.sid).sinkTest.create();
    const [first, second] = hook.requests.map((r) => testEventsOf(r)[0].data.test_id);
    expect(first).not.toBe(second);
    expect(await restError(sinks(sink.sid).sinkValidate.create({ testId: first }))).toMatchObject({ status: 400, code: 91005 });
    expect((await sinks(sink.sid).sinkValidate.create({ testId: second })).result).toBe('valid');
  });

  it('tenancy: the sink’s account and its main account may Test/Validate; a sibling or another tenant gets 404 91001 and nothing is sent', async () => {
    const hook = await receiver();
    const subSink = await eventsClient(t, sub).events.v1.sinks.create({ description: 'sub', sinkType: 'webhook', sinkConfiguration: webhook(hook.url()) });
    for (const who of [sibling, stranger]) {
      const sinks = eventsClient(t, who).events.v1.sinks;
      expect(await restError(sinks(subSink.sid).sinkTest.create())).toMatchObject({ status: 404, code: 91001 });
      expect(await restError(sinks(subSink.sid).sinkValidate.create({ testId: randomUUID() }))).toMatchObject({ status: 404, code: 91001 });
    }
    expect(hook.requests).toEqual([]);
    expect(await statusOf(subSink.sid)).toBe('active');
    expect(await restError(eventsClient(t, main).events.v1.sinks(`DG${'0'.repeat(32)}`).sinkTest.create())).toMatchObject({ status: 404, code: 91001 });
    expect((await raw(t, '/v1/Sinks/DGnothex/Test', { as: main, method: 'POST' })).json).toMatchObject({ status: 400, code: 91006 });

    // The main account tests its subaccount's sink: signed with the subaccount's token, as its deliveries are.
    await eventsClient(t, main).events.v1.sinks(subSink.sid).sinkTest.create();
    expect(hook.requests).toHaveLength(1);
    expect(hook.valid(hook.requests[0], sub.authToken)).toBe(true);
    expect(hook.valid(hook.requests[0], main.authToken)).toBe(false);
    const testId = testEventsOf(hook.requests[0])[0].data.test_id;
    expect(testEventsOf(hook.requests[0])[0].id).toBe(sub.sid);
    expect((await eventsClient(t, sub).events.v1.sinks(subSink.sid).sinkValidate.create({ testId })).result).toBe('valid');
  });

  it('the test event goes through the egress guard: a destination it refuses is never connected to', async () => {
    const hook = await receiver();
    // 127.0.0.2 is loopback, and EGRESS_ALLOW lists 127.0.0.1 only: a sink stored before a policy change.
    const refused = await t.app.get(EventStreamsCommands).createSink(
      { accountSid: main.sid, ownerAccountSid: main.sid, description: 'ssrf', parsed: parseSinkConfiguration('webhook', webhook(hook.url().replace('127.0.0.1', '127.0.0.2'))) },
      OPERATOR,
    );
    // Twilio's answer: submitted (the event was handed to the transport); the receiver saw nothing.
    expect((await eventsClient(t, main).events.v1.sinks(refused.sid).sinkTest.create()).result).toBe('submitted');
    expect(hook.requests).toEqual([]);
    expect(await statusOf(refused.sid)).toBe('validating');
  });

  it('delivery holds while the sink is validating and resumes from its checkpoint on Validate', async () => {
    const hook = await receiver();
    const client = eventsClient(t, main);
    const sink = await client.events.v1.sinks.create({ description: 'held', sinkType: 'webhook', sinkConfiguration: webhook(hook.url()) });
    await client.events.v1.subscriptions.create({ description: 'renames', sinkSid: sink.sid, types: [{ type: StreamEventType.AccountRenamed }] });
    const delivery = t.app.get(DeliveryService);
    await delivery.refresh();
    expect(delivery.sinks).toContain(sink.sid);

    await client.events.v1.sinks(sink.sid).sinkTest.create();
    await client.api.v2010.accounts(main.sid).update({ friendlyName: 'Renamed while validating' });
    await delivery.refresh();
    expect(delivery.sinks).not.toContain(sink.sid);
    expect(hook.requests.flatMap((r) => r.events.map((e) => e.type))).toEqual(['com.twilio.eventstreams.test-event']);

    await client.events.v1.sinks(sink.sid).sinkValidate.create({ testId: testEventsOf(hook.requests[0])[0].data.test_id });
    await delivery.refresh();
    const delivered = await eventually(() => hook.delivered().slice(1), (d) => d.length >= 1, 30_000, 'the held rename');
    expect(delivered.map((e) => [e.type, e.data.resource_sid])).toEqual([[StreamEventType.AccountRenamed, main.sid]]);
  });

  describe('Idempotency-Key on the Event Streams POSTs', () => {
    const post = (path: string, body: Record<string, string> | undefined, key: string) =>
      raw(t, path, { as: main, method: 'POST', body, headers: { 'idempotency-key': key } });

    it('a retry gets the first answer and changes nothing; the key with another request is 422', async () => {
      const hook = await receiver();
      const body = { Description: 'once', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook(hook.url())) };
      const first = await post('/v1/Sinks', body, 'sink-1');
      const retry = await post('/v1/Sinks', { ...body, SinkConfiguration: JSON.stringify(webhook(hook.url()), null, 2) }, 'sink-1');
      expect(first.status).toBe(201);
      expect([retry.status, retry.json]).toEqual([201, first.json]);
      expect((await t.database.pool.query(`SELECT count(*)::int AS n FROM event_sinks WHERE description = 'once'`)).rows[0].n).toBe(1);
      const other = await post('/v1/Sinks', { ...body, Description: 'twice' }, 'sink-1');
      expect(other.json).toMatchObject({ status: 422, code: 20002 });
      const sid = first.json.sid as string;

      const renamed = await post(`/v1/Sinks/${sid}`, { Description: 'renamed' }, 'rename-1');
      await post(`/v1/Sinks/${sid}`, { Description: 'renamed again' }, 'rename-2');
      expect((await post(`/v1/Sinks/${sid}`, { Description: 'renamed' }, 'rename-1')).json).toEqual(renamed.json);
      expect((await raw(t, `/v1/Sinks/${sid}`, { as: main })).json.description).toBe('renamed again');

      // Test replayed: one test event, one test id; Validate replayed: "valid" again, where a second Validate would be 91004.
      expect((await post(`/v1/Sinks/${sid}/Test`, undefined, 'test-1')).status).toBe(201);
      expect((await post(`/v1/Sinks/${sid}/Test`, undefined, 'test-1')).json).toEqual({ result: 'submitted' });
      expect(hook.requests).toHaveLength(1);
      const testId = testEventsOf(hook.requests[0])[0].data.test_id;
      for (let i = 0; i < 2; i++) {
        const validated = await post(`/v1/Sinks/${sid}/Validate`, { TestId: testId }, 'validate-1');
        expect([validated.status, validated.json]).toEqual([201, { result: 'valid' }]);
      }
      const handshake = (await configurationEvents(t, main.sid)).filter((e) => e.data.sinkSid === sid && /^Sink(TestStarted|Validated)$/.test(e.type));
      expect(handshake.map((e) => e.type)).toEqual(['SinkTestStarted', 'SinkValidated']);

      const types = JSON.stringify({ type: StreamEventType.AccountRenamed });
      const subscription = await post('/v1/Subscriptions', { Description: 'once', SinkSid: sid, Types: types }, 'sub-1');
      expect(subscription.status).toBe(201);
      expect((await post('/v1/Subscriptions', { Description: 'once', SinkSid: sid, Types: types }, 'sub-1')).json).toEqual(subscription.json);
      const subscribedPath = `/v1/Subscriptions/${subscription.json.sid}/SubscribedEvents`;
      const added = await post(subscribedPath, { Type: StreamEventType.AccountCreated }, 'type-1');
      expect(added.status).toBe(201);
      // Without the key, adding it again is a duplicate (91101); with it, the first answer.
      expect((await post(subscribedPath, { Type: StreamEventType.AccountCreated }, 'type-1')).json).toEqual(added.json);
      expect((await raw(t, subscribedPath, { as: main, body: { Type: StreamEventType.AccountCreated } })).json).toMatchObject({ status: 400, code: 91101 });
      const updated = await post(`${subscribedPath}/${StreamEventType.AccountCreated}`, { SchemaVersion: '1' }, 'type-2');
      expect(updated.status).toBe(200);
      expect((await post(`${subscribedPath}/${StreamEventType.AccountCreated}`, { SchemaVersion: '1' }, 'type-2')).json).toEqual(updated.json);
      const described = await post(`/v1/Subscriptions/${subscription.json.sid}`, { Description: 'once more' }, 'sub-2');
      expect((await post(`/v1/Subscriptions/${subscription.json.sid}`, { Description: 'once more' }, 'sub-2')).json).toEqual(described.json);
    });

    it('concurrent requests under one key: one sink, the same answer for all', async () => {
      const body = { Description: 'racing', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) };
      const answers = await Promise.all(Array.from({ length: 8 }, () => post('/v1/Sinks', body, 'race-1')));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
      expect(new Set(answers.map((a) => a.json.sid)).size).toBe(1);
      expect((await t.database.pool.query(`SELECT count(*)::int AS n FROM event_sinks WHERE description = 'racing'`)).rows[0].n).toBe(1);
    });
  });
});

describeWithNats('Sink Test to a NATS JetStream sink', () => {
  const stream = `TEST_${randomUUID().replace(/-/g, '').slice(0, 12).toUpperCase()}`;
  const prefix = `test.${stream.toLowerCase()}`;
  let t: TestApp;
  let main: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    main = await t.createMain('Main', 'Full');
  });
  afterAll(async () => {
    await t.close();
    const nc = await connect({ servers: NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('each Test is its own message (the duplicate window keys on the test id, not the account sid); the last id validates', async () => {
    const sinks = eventsClient(t, main).events.v1.sinks;
    const sink = await sinks.create({ description: 'bus', sinkType: 'nats' as never, sinkConfiguration: { servers: [NATS_URL], subject_prefix: prefix, stream } });
    await sinks(sink.sid).sinkTest.create();
    await sinks(sink.sid).sinkTest.create();
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      expect((await jsm.streams.info(stream)).state.messages).toBe(2);
      const messages = await Promise.all([1, 2].map((seq) => jsm.streams.getMessage(stream, { seq })));
      const events = messages.map((m) => m!.json<TestEvent>());
      expect(messages.map((m) => m!.subject)).toEqual(Array(2).fill(`${prefix}.${main.sid}.com.twilio.eventstreams.test-event`));
      expect(events.map((e) => [e.type, e.id])).toEqual(Array(2).fill(['com.twilio.eventstreams.test-event', main.sid]));
      expect(await restError(sinks(sink.sid).sinkValidate.create({ testId: events[0].data.test_id }))).toMatchObject({ status: 400, code: 91005 });
      expect((await sinks(sink.sid).sinkValidate.create({ testId: events[1].data.test_id })).result).toBe('valid');
    } finally {
      await nc.close();
    }
  });
});
