import twilio from 'twilio';
import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { raw, restError, type Credentials } from '../api/accounts-api.helpers';
import { configurationEvents, eventsClient, sinkSpecAccounts, webhook } from './event-streams.helpers';

const DG = /^DG[0-9a-f]{32}$/;
const SINK_FIELDS = ['date_created', 'date_updated', 'description', 'links', 'sid', 'sink_configuration', 'sink_type', 'status', 'url'];
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const nats = { servers: ['nats://127.0.0.1:4222'], subject_prefix: 'accountable', stream: 'ACCOUNTABLE' };

describe('Event Streams sinks (events.twilio.com/v1/Sinks) through twilio-node and on the wire', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: Credentials;
  let sibling: Credentials;
  let stranger: AccountRecord;

  beforeAll(async () => {
    // Sinks point at this machine; EGRESS_ALLOW lets exactly 127.0.0.1 through the SSRF guard.
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    ({ main, stranger, sub, sibling } = await sinkSpecAccounts(t));
  });
  afterAll(() => t.close());

  it('sinks: create, fetch, list, update, remove with twilio-node', async () => {
    const sinks = eventsClient(t, main).events.v1.sinks;
    const created = await sinks.create({ description: 'billing hook', sinkType: 'webhook', sinkConfiguration: webhook() });
    expect(created.sid).toMatch(DG);
    expect(created.status).toBe('active');
    expect(created.sinkType).toBe('webhook');
    expect(created.sinkConfiguration).toEqual(webhook());
    expect(created.url).toBe(`${t.baseUrl}/v1/Sinks/${created.sid}`);
    expect(created.links).toEqual({ sink_test: `${created.url}/Test`, sink_validate: `${created.url}/Validate` });

    const bus = await sinks.create({ description: 'bus', sinkType: 'nats' as never, sinkConfiguration: nats });
    expect(bus.sinkConfiguration).toEqual(nats);

    expect((await sinks.list()).map((s) => s.sid)).toEqual([created.sid, bus.sid]);
    expect((await sinks(created.sid).fetch()).description).toBe('billing hook');
    const updated = await sinks(created.sid).update({ description: 'billing' });
    expect(updated.description).toBe('billing');
    expect(await sinks(bus.sid).remove()).toBe(true);
    expect(await restError(sinks(bus.sid).fetch())).toMatchObject({ status: 404, code: 91001 });
    await sinks(created.sid).remove();
  });

  it('on the wire: exactly Twilio’s sink fields (no account_sid), ISO dates, the v1 list envelope', async () => {
    const created = await raw(t, '/v1/Sinks', { as: main, body: { Description: 'wire', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) } });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(SINK_FIELDS);
    expect(created.json.date_created).toMatch(ISO);
    const list = await raw(t, '/v1/Sinks?PageSize=1&Status=active&InUse=false', { as: main });
    expect(list.status).toBe(200);
    expect(list.json.meta).toMatchObject({ key: 'sinks', page: 0, page_size: 1, previous_page_url: null, next_page_url: null });
    expect(list.json.meta.url).toBe(`${t.baseUrl}/v1/Sinks?InUse=false&Status=active&PageSize=1&Page=0`);
    expect(list.json.sinks.map((s: { sid: string }) => s.sid)).toEqual([created.json.sid]);
    expect((await raw(t, '/v1/Sinks?InUse=true', { as: main })).json.sinks).toEqual([]);
    expect((await raw(t, `/v1/Sinks/${created.json.sid}`, { as: main, method: 'DELETE' })).status).toBe(204);
  });

  it('a destination password is kept sealed: masked in answers, absent from the log', async () => {
    const created = await raw(t, '/v1/Sinks', {
      as: main,
      body: { Description: 'basic auth', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook('https://user:s3cr3t-pass@127.0.0.1/hook')) },
    });
    expect(created.status).toBe(201);
    expect(created.json.sink_configuration.destination).toBe('https://user:****@127.0.0.1/hook');
    expect(created.text).not.toContain('s3cr3t-pass');
    const { rows } = await t.database.pool.query<{ text: string }>(`SELECT data::text AS text FROM events WHERE stream_id = $1`, [`event-streams-${main.sid}`]);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.text).not.toContain('s3cr3t-pass');
    const sealed = await t.database.pool.query<{ sealed: string }>(`SELECT destination_password_sealed AS sealed FROM event_sinks WHERE sid = $1`, [created.json.sid]);
    expect(t.runtime.keyring.open(sealed.rows[0].sealed, created.json.sid)).toBe('s3cr3t-pass');
    await raw(t, `/v1/Sinks/${created.json.sid}`, { as: main, method: 'DELETE' });
  });

  it('every change is an event on the account’s event-streams stream, with who and from where', async () => {
    const client = eventsClient(t, sub);
    const sink = await client.events.v1.sinks.create({ description: 'audited', sinkType: 'webhook', sinkConfiguration: webhook() });
    await client.events.v1.sinks(sink.sid).update({ description: 'audited 2' });
    await client.events.v1.sinks(sink.sid).remove();
    const events = await configurationEvents(t, sub.sid);
    expect(events.map((e) => e.type)).toEqual(['SinkCreated', 'SinkDescriptionChanged', 'SinkDeleted']);
    expect(events[0].data).toMatchObject({ sinkSid: sink.sid, accountSid: sub.sid, ownerAccountSid: main.sid, description: 'audited' });
    expect(events[0].metadata).toMatchObject({ actorType: 'account', actorSid: sub.sid, source: 'api', sourceIp: '127.0.0.1' });
  });

  it.each([
    ['no Description', { SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) }, 400, 20001],
    ['no SinkType', { Description: 'x', SinkConfiguration: JSON.stringify(webhook()) }, 400, 20001],
    ['no SinkConfiguration', { Description: 'x', SinkType: 'webhook' }, 400, 20001],
    ['a kinesis sink', { Description: 'x', SinkType: 'kinesis', SinkConfiguration: JSON.stringify({ arn: 'a', role_arn: 'b', external_id: 'c' }) }, 400, 91000],
    ['an unknown type', { Description: 'x', SinkType: 'carrier-pigeon', SinkConfiguration: '{}' }, 400, 91000],
    ['configuration that is not JSON', { Description: 'x', SinkType: 'webhook', SinkConfiguration: '{oops' }, 400, 91000],
    ['an unknown configuration key', { Description: 'x', SinkType: 'webhook', SinkConfiguration: JSON.stringify({ ...webhook(), extra: 1 }) }, 400, 91000],
    ['method GET', { Description: 'x', SinkType: 'webhook', SinkConfiguration: JSON.stringify({ ...webhook(), method: 'GET' }) }, 400, 91000],
    ['a javascript: destination', { Description: 'x', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook('javascript:alert(1)')) }, 400, 91000],
    ['a blank Description', { Description: '   ', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) }, 400, 91000],
    ['a Description of 256 characters', { Description: 'x'.repeat(256), SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) }, 400, 91000],
  ])('sink create with %s: refused, nothing stored', async (_, body, status, code) => {
    const before = await t.database.pool.query('SELECT count(*)::int AS n FROM event_sinks');
    const response = await raw(t, '/v1/Sinks', { as: main, body: body as Record<string, string> });
    expect(response.json).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
    expect(response.status).toBe(status);
    expect((await t.database.pool.query('SELECT count(*)::int AS n FROM event_sinks')).rows).toEqual(before.rows);
  });

  it.each([
    ['a private address', webhook('http://10.0.0.1/hook')],
    ['the cloud metadata service', webhook('http://169.254.169.254/latest/meta-data/')],
    ['loopback not in EGRESS_ALLOW', webhook('http://127.0.0.2/hook')],
    ['loopback written as a number', webhook('http://2130706434/hook')],
    ['IPv6 loopback', webhook('http://[::1]/hook')],
    ['an IPv4-mapped IPv6 private address', webhook('http://[::ffff:10.0.0.1]/hook')],
    ['a name that does not resolve', webhook('http://sink.invalid/hook')],
    ['a NATS server on a private address', { ...nats, servers: ['nats://10.1.2.3:4222'] }],
  ])('an SSRF destination is refused (91000): %s', async (_, configuration) => {
    const sinkType = 'servers' in configuration ? 'nats' : 'webhook';
    const response = await raw(t, '/v1/Sinks', { as: main, body: { Description: 'ssrf', SinkType: sinkType, SinkConfiguration: JSON.stringify(configuration) } });
    expect(response.json).toMatchObject({ status: 400, code: 91000 });
    expect(response.json.message).toMatch(/refused/);
  });

  it('a repeated parameter, a malformed sid, an unknown sid, unsupported methods', async () => {
    const twice = await raw(t, '/v1/Sinks', { as: main, body: 'Description=a&Description=b&SinkType=webhook&SinkConfiguration=%7B%7D' });
    expect(twice.json).toMatchObject({ status: 400, code: 20002 });
    expect((await raw(t, '/v1/Sinks/DGnothex', { as: main })).json).toMatchObject({ status: 400, code: 91006 });
    expect((await raw(t, `/v1/Sinks/DG${'0'.repeat(32)}`, { as: main })).json).toMatchObject({ status: 404, code: 91001 });
    const put = await raw(t, '/v1/Sinks', { as: main, method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect((await raw(t, '/v1/Sinks')).status).toBe(401);
  });

  it('tenancy: a main account reaches its subaccounts’ sinks; a subaccount only its own; never a sibling’s or another tenant’s', async () => {
    const subSink = await eventsClient(t, sub).events.v1.sinks.create({ description: 'sub', sinkType: 'webhook', sinkConfiguration: webhook() });
    const mainSink = await eventsClient(t, main).events.v1.sinks.create({ description: 'main', sinkType: 'webhook', sinkConfiguration: webhook() });
    expect((await eventsClient(t, main).events.v1.sinks.list()).map((s) => s.sid)).toEqual(expect.arrayContaining([subSink.sid, mainSink.sid]));
    expect((await eventsClient(t, main).events.v1.sinks(subSink.sid).update({ description: 'renamed by main' })).description).toBe('renamed by main');
    expect((await eventsClient(t, sub).events.v1.sinks.list()).map((s) => s.sid)).toEqual([subSink.sid]);
    for (const [who, sid] of [[sub, mainSink.sid], [sibling, subSink.sid], [stranger, subSink.sid], [stranger, mainSink.sid]] as const) {
      expect(await restError(eventsClient(t, who).events.v1.sinks(sid).fetch())).toMatchObject({ status: 404, code: 91001 });
      expect(await restError(eventsClient(t, who).events.v1.sinks(sid).remove())).toMatchObject({ status: 404, code: 91001 });
    }
    expect(await eventsClient(t, sibling).events.v1.sinks.list()).toEqual([]);
    await eventsClient(t, main).events.v1.sinks(subSink.sid).remove();
    await eventsClient(t, main).events.v1.sinks(mainSink.sid).remove();
  });

  it('at most 100 sinks per account (91003), held under concurrent creations; deleting one frees its place', async () => {
    const body = { Description: 'many', SinkType: 'webhook', SinkConfiguration: JSON.stringify(webhook()) };
    const create = () => raw(t, '/v1/Sinks', { as: sibling, body });
    const sids: string[] = [];
    for (let batch = 0; batch < 9; batch++) sids.push(...(await Promise.all(Array.from({ length: 10 }, create))).map((r) => r.json.sid));
    // 20 at once for the last 10 places: the account's stream lock makes each decide on the latest count.
    const racing = await Promise.all(Array.from({ length: 20 }, create));
    expect(racing.filter((r) => r.status === 201)).toHaveLength(10);
    expect(racing.filter((r) => r.status !== 201).map((r) => r.json.code)).toEqual(Array(10).fill(91003));
    sids.push(...racing.filter((r) => r.status === 201).map((r) => r.json.sid));
    expect(new Set(sids).size).toBe(100);
    expect((await t.database.pool.query('SELECT count(*)::int AS n FROM event_sinks WHERE account_sid = $1', [sibling.sid])).rows[0].n).toBe(100);
    expect((await raw(t, `/v1/Sinks/${sids[0]}`, { as: sibling, method: 'DELETE' })).status).toBe(204);
    expect((await create()).status).toBe(201);
    const page = await raw(t, '/v1/Sinks?PageSize=60&Page=1', { as: sibling });
    expect(page.json.sinks).toHaveLength(40);
    expect(page.json.meta.previous_page_url).toBe(`${t.baseUrl}/v1/Sinks?PageSize=60&Page=0`);
    expect(page.json.meta.next_page_url).toBeNull();
  });

  it('a standard API key may manage sinks, as on events.twilio.com', async () => {
    const key = await eventsClient(t, main).api.v2010.accounts(main.sid).newKeys.create({ friendlyName: 'streams' });
    const keyed = twilio(key.sid, key.secret, { accountSid: main.sid });
    keyed.events.baseUrl = t.baseUrl;
    const sink = await keyed.events.v1.sinks.create({ description: 'by key', sinkType: 'webhook', sinkConfiguration: webhook() });
    const [created] = (await configurationEvents(t, main.sid)).filter((e) => e.data.sinkSid === sink.sid);
    expect(created.metadata).toMatchObject({ actorSid: main.sid });
    await keyed.events.v1.sinks(sink.sid).remove();
  });
});
