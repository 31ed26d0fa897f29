import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { raw, restError, type Credentials } from '../api/accounts-api.helpers';
import { configurationEvents, eventsClient, webhook } from './event-streams.helpers';

const DF = /^DF[0-9a-f]{32}$/;
const SUBSCRIPTION_FIELDS = ['account_sid', 'date_created', 'date_updated', 'description', 'links', 'sid', 'sink_sid', 'url'];


describe('Event Streams subscriptions, subscribed events, types and schemas through twilio-node and on the wire', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: Credentials;
  let sibling: Credentials;
  let firstType: { type: string; schemaId: string };

  beforeAll(async () => {
    // Sinks point at this machine; EGRESS_ALLOW lets exactly 127.0.0.1 through the SSRF guard.
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    main = await t.createMain('Main', 'Full');
    const accounts = eventsClient(t, main).api.v2010.accounts;
    sub = await accounts.create({ friendlyName: 'Sub' });
    sibling = await accounts.create({ friendlyName: 'Sibling' });
    const types = await eventsClient(t, main).events.v1.eventTypes.list();
    firstType = { type: types[0].type, schemaId: types[0].schemaId };
  });
  afterAll(() => t.close());

  it('subscriptions and subscribed events with twilio-node', async () => {
    const client = eventsClient(t, main).events.v1;
    const sink = await client.sinks.create({ description: 'for subs', sinkType: 'webhook', sinkConfiguration: webhook() });
    const subscription = await client.subscriptions.create({ description: 'account changes', sinkSid: sink.sid, types: [{ type: firstType.type }] });
    expect(subscription.sid).toMatch(DF);
    expect(subscription.accountSid).toBe(main.sid);
    expect(subscription.sinkSid).toBe(sink.sid);
    expect(subscription.links).toEqual({ subscribed_events: `${t.baseUrl}/v1/Subscriptions/${subscription.sid}/SubscribedEvents` });

    const subscribed = await client.subscriptions(subscription.sid).subscribedEvents.list();
    expect(subscribed.map((e) => ({ type: e.type, schemaVersion: e.schemaVersion }))).toEqual([{ type: firstType.type, schemaVersion: expect.any(Number) }]);
    expect((await client.sinks.list({ inUse: true })).map((s) => s.sid)).toEqual([sink.sid]);
    expect((await client.subscriptions.list({ sinkSid: sink.sid })).map((s) => s.sid)).toEqual([subscription.sid]);
    expect((await client.subscriptions(subscription.sid).update({ description: 'renamed' })).description).toBe('renamed');

    // A second subscription on the same sink, a sink in use deleted: Twilio's "in use".
    expect(await restError(client.subscriptions.create({ description: 'again', sinkSid: sink.sid, types: [{ type: firstType.type }] }))).toMatchObject({ status: 400, code: 91007 });
    expect(await restError(client.sinks(sink.sid).remove())).toMatchObject({ status: 400, code: 91007 });

    const types = await client.eventTypes.list();
    const second = types.find((ty) => ty.type !== firstType.type)!;
    const added = await client.subscriptions(subscription.sid).subscribedEvents.create({ type: second.type });
    expect(added).toMatchObject({ type: second.type, subscriptionSid: subscription.sid, accountSid: main.sid });
    expect(await restError(client.subscriptions(subscription.sid).subscribedEvents.create({ type: second.type }))).toMatchObject({ status: 400, code: 91101 });
    expect((await client.subscriptions(subscription.sid).subscribedEvents(second.type).update({ schemaVersion: 1 })).schemaVersion).toBe(1);
    expect(await restError(client.subscriptions(subscription.sid).subscribedEvents(second.type).update({ schemaVersion: 999 }))).toMatchObject({ status: 400, code: 91104 });
    expect((await client.subscriptions(subscription.sid).subscribedEvents(second.type).fetch()).type).toBe(second.type);
    expect(await client.subscriptions(subscription.sid).subscribedEvents(second.type).remove()).toBe(true);
    expect(await restError(client.subscriptions(subscription.sid).subscribedEvents(firstType.type).remove())).toMatchObject({ status: 400, code: 91103 });

    expect(await client.subscriptions(subscription.sid).remove()).toBe(true);
    expect(await restError(client.subscriptions(subscription.sid).fetch())).toMatchObject({ status: 404, code: 91102 });
    // Deleting the subscription leaves the sink active, and free.
    expect((await client.sinks(sink.sid).fetch()).status).toBe('active');
    await client.sinks(sink.sid).remove();
  });

  it.each([
    ['no Types', (sink: string) => ({ Description: 'x', SinkSid: sink }), 400, 20001],
    ['an unknown type', (sink: string) => ({ Description: 'x', SinkSid: sink, Types: JSON.stringify({ type: 'com.example.nope' }) }), 400, 91104],
    ['a JSON array in one value', (sink: string) => ({ Description: 'x', SinkSid: sink, Types: JSON.stringify([{ type: 'a' }]) }), 400, 91101],
    ['an unknown key in a type', (sink: string) => ({ Description: 'x', SinkSid: sink, Types: JSON.stringify({ type: 'a', filter: 'x' }) }), 400, 91101],
    ['a malformed SinkSid', () => ({ Description: 'x', SinkSid: 'DG1', Types: '{}' }), 400, 91006],
    ['an unknown SinkSid', () => ({ Description: 'x', SinkSid: `DG${'0'.repeat(32)}`, Types: JSON.stringify({ type: 'a' }) }), 404, 91001],
    ['an empty Description', (sink: string) => ({ Description: ' ', SinkSid: sink, Types: JSON.stringify({ type: 'a' }) }), 400, 91101],
  ])('subscription create with %s: refused, nothing stored', async (_, body, status, code) => {
    const sink = await raw(t, '/v1/Sinks', { as: main, body: { Description: 's', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) } });
    const response = await raw(t, '/v1/Subscriptions', { as: main, body: body(sink.json.sid) });
    expect(response.json).toMatchObject({ status, code });
    expect((await t.database.pool.query('SELECT count(*)::int AS n FROM event_subscriptions')).rows[0].n).toBe(0);
    await raw(t, `/v1/Sinks/${sink.json.sid}`, { as: main, method: 'DELETE' });
  });

  it('a subscription needs a sink of the same account: a subaccount’s sink is not the main account’s to subscribe', async () => {
    const subSink = await eventsClient(t, sub).events.v1.sinks.create({ description: 'sub', sinkType: 'webhook', sinkConfiguration: webhook() });
    const refused = eventsClient(t, main).events.v1.subscriptions.create({ description: 'x', sinkSid: subSink.sid, types: [{ type: firstType.type }] });
    expect(await restError(refused)).toMatchObject({ status: 404, code: 91001 });
    const own = await eventsClient(t, sub).events.v1.subscriptions.create({ description: 'x', sinkSid: subSink.sid, types: [{ type: firstType.type }] });
    // The main account sees it (as /v1/Events), a sibling does not.
    expect((await eventsClient(t, main).events.v1.subscriptions(own.sid).fetch()).accountSid).toBe(sub.sid);
    expect(await restError(eventsClient(t, sibling).events.v1.subscriptions(own.sid).fetch())).toMatchObject({ status: 404, code: 91102 });
    await eventsClient(t, main).events.v1.subscriptions(own.sid).remove();
    await eventsClient(t, main).events.v1.sinks(subSink.sid).remove();
  });

  it('event types and schemas: list, fetch, versions, the raw JSON Schema', async () => {
    const client = eventsClient(t, sub).events.v1;
    const types = await client.eventTypes.list();
    expect(types.length).toBeGreaterThan(0);
    const fetched = await client.eventTypes(firstType.type).fetch();
    expect(fetched).toMatchObject({ type: firstType.type, schemaId: firstType.schemaId, status: 'available' });
    expect((await client.eventTypes.list({ schemaId: firstType.schemaId })).map((ty) => ty.schemaId)).toEqual(expect.arrayContaining([firstType.schemaId]));
    const schema = await client.schemas(firstType.schemaId).fetch();
    expect(schema).toMatchObject({ id: firstType.schemaId, latestVersion: expect.any(Number) });
    const versions = await client.schemas(firstType.schemaId).versions.list();
    expect(versions.map((v) => v.schemaVersion)).toContain(schema.latestVersion);
    const version = await client.schemas(firstType.schemaId).versions(schema.latestVersion).fetch();
    expect(version.raw).toBe(`${t.baseUrl}/v1/Schemas/${encodeURIComponent(firstType.schemaId)}/Versions/${schema.latestVersion}/Raw`);
    const document = await raw(t, new URL(version.raw).pathname, { as: sub });
    expect(document.status).toBe(200);
    expect(typeof document.json).toBe('object');
    expect(await restError(client.eventTypes('com.example.nope').fetch())).toMatchObject({ status: 404, code: 91202 });
    expect(await restError(client.schemas('Nope.Nothing').fetch())).toMatchObject({ status: 404, code: 91202 });
  });


  it('on the wire: repeated Types form values, exactly Twilio’s fields, each change an event; read-only schemas', async () => {
    const sink = await raw(t, '/v1/Sinks', { as: sub, body: { Description: 'wire', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) } });
    const types = (await eventsClient(t, sub).events.v1.eventTypes.list()).slice(0, 2).map((ty) => ty.type);
    const form = [`Description=wire`, `SinkSid=${sink.json.sid}`, ...types.map((type) => `Types=${encodeURIComponent(JSON.stringify({ type, schema_version: 1 }))}`)].join('&');
    const created = await raw(t, '/v1/Subscriptions', { as: sub, body: form });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(SUBSCRIPTION_FIELDS);
    const listed = await raw(t, `/v1/Subscriptions/${created.json.sid}/SubscribedEvents`, { as: sub });
    expect(listed.json.meta.key).toBe('types');
    expect(listed.json.types.map((e: { type: string }) => e.type)).toEqual([...types].sort());
    expect((await raw(t, `/v1/Subscriptions/${created.json.sid}`, { as: sub, method: 'DELETE' })).status).toBe(204);
    expect((await raw(t, `/v1/Sinks/${sink.json.sid}`, { as: sub, method: 'DELETE' })).status).toBe(204);
    expect((await configurationEvents(t, sub.sid)).slice(-4).map((e) => e.type)).toEqual(['SinkCreated', 'SubscriptionCreated', 'SubscriptionDeleted', 'SinkDeleted']);
    expect((await raw(t, `/v1/Schemas/${encodeURIComponent('Any.Schema')}`, { as: sub, method: 'DELETE' })).json).toMatchObject({ status: 405, code: 91203 });
    expect((await raw(t, '/v1/Types', { as: sub, method: 'POST', body: {} })).status).toBe(405);
  });

});
