import type { AccountRecord } from '@accountable/accounts';
import type { EventInstance } from 'twilio/lib/rest/monitor/v1/event';
import { startTestApp, type TestApp } from '../support/test-app';
import { auditRows, clientFor, drain, getWithHost, nextSecond, raw, restError, sids, type AuditRow } from './audit.helpers';

const ISO_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const EVENT_KEYS = [
  'account_sid',
  'actor_sid',
  'actor_type',
  'description',
  'event_data',
  'event_date',
  'event_type',
  'links',
  'resource_sid',
  'resource_type',
  'sid',
  'source',
  'source_ip_address',
  'url',
];

describe('Monitor Events: wire format, filters, dates', () => {
  let t: TestApp;
  let main: AccountRecord;
  let subA: { sid: string; authToken: string };
  let subB: { sid: string; authToken: string };
  /** The main account's whole history, newest first, as stored. */
  let all: AuditRow[];
  let apiIp: string;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    subA = await accounts.create({ friendlyName: 'A' });
    subB = await accounts.create({ friendlyName: 'B' });
    await accounts(subA.sid).update({ friendlyName: 'A2' });
    await clientFor(t, subA).api.v2010.accounts(subA.sid).update({ friendlyName: 'A3' });
    await accounts(subB.sid).update({ status: 'suspended' });
    await drain(t);
    all = await auditRows(t);
    expect(all).toHaveLength(6);
    apiIp = all.find((r) => r.source === 'api')!.source_ip_address!;
    expect(apiIp).toBeTruthy();
  });
  afterAll(() => t.close());

  const monitor = (as: { sid: string; authToken: string } = main) => clientFor(t, as).monitor.v1.events;

  it('lists every event newest first, each exactly in the spec shape', async () => {
    const response = await raw(t, '/v1/Events', main);
    expect(response.status).toBe(200);
    expect(Object.keys(response.json).sort()).toEqual(['events', 'meta']);
    expect(response.json.events.map((e: { sid: string }) => e.sid)).toEqual(sids(all));
    for (const event of response.json.events) {
      expect(Object.keys(event).sort()).toEqual(EVENT_KEYS);
      expect(event.sid).toMatch(/^AE[0-9a-f]{32}$/);
      expect(event.event_date).toMatch(ISO_SECONDS);
      expect(event.account_sid).toBe(main.sid);
      expect(event.resource_type).toBe('account');
      expect(event.url).toBe(`${t.baseUrl}/v1/Events/${event.sid}`);
      expect(event.links.resource).toBe(`${t.baseUrl}/2010-04-01/Accounts/${event.resource_sid}.json`);
    }
    expect(response.json.meta).toEqual({
      page: 0,
      page_size: 50,
      first_page_url: `${t.baseUrl}/v1/Events?PageSize=50&Page=0`,
      previous_page_url: null,
      url: `${t.baseUrl}/v1/Events?PageSize=50&Page=0`,
      next_page_url: null,
      key: 'events',
    });
  });

  it('records who did what: operator sign-up, API calls by the owner and by the subaccount itself', async () => {
    const events = await monitor().list();
    const byResource = (sid: string) => events.filter((e) => e.resourceSid === sid);

    const [mainCreated] = byResource(main.sid);
    expect(mainCreated).toMatchObject({ eventType: 'account.created', actorType: 'operator', actorSid: null, source: 'cli', sourceIpAddress: null });
    expect(mainCreated.eventData).toEqual({
      friendly_name: { previous: null, updated: 'Main' },
      status: { previous: null, updated: 'active' },
      type: { previous: null, updated: 'Full' },
    });
    expect(mainCreated.links).toEqual({ actor: null, resource: `${t.baseUrl}/2010-04-01/Accounts/${main.sid}.json` });

    const [selfRename, ownerRename, created] = byResource(subA.sid);
    expect(created).toMatchObject({ eventType: 'account.created', actorType: 'account', actorSid: main.sid, source: 'api', sourceIpAddress: apiIp });
    expect(ownerRename).toMatchObject({
      eventType: 'account.updated',
      actorSid: main.sid,
      eventData: { friendly_name: { previous: 'A', updated: 'A2' } },
    });
    expect(selfRename).toMatchObject({
      eventType: 'account.updated',
      actorType: 'account',
      actorSid: subA.sid,
      eventData: { friendly_name: { previous: 'A2', updated: 'A3' } },
    });
    expect(selfRename.links.actor).toBe(`${t.baseUrl}/2010-04-01/Accounts/${subA.sid}.json`);

    const [suspended] = byResource(subB.sid);
    expect(suspended).toMatchObject({ eventType: 'account.updated', eventData: { status: { previous: 'active', updated: 'suspended' } } });
    expect(suspended.description).toEqual(expect.any(String));
  });

  it('events(sid).fetch() returns the same event as the list', async () => {
    const rename = all.find((r) => r.event_type === 'account.updated' && r.actor_sid === subA.sid)!;
    const fetched = await monitor().get(rename.sid).fetch();
    expect(fetched.sid).toBe(rename.sid);
    expect(fetched.eventData).toEqual({ friendly_name: { previous: 'A2', updated: 'A3' } });
    expect(fetched.eventDate).toEqual(new Date(Math.floor(rename.event_date.getTime() / 1000) * 1000));
    const body = (await raw(t, `/v1/Events/${rename.sid}`, main)).json;
    const listed = (await raw(t, '/v1/Events', main)).json.events.find((e: { sid: string }) => e.sid === rename.sid);
    expect(body).toEqual(listed);
  });

  it.each([
    ['ActorSid (the main account)', () => ({ actorSid: main.sid }), (r: AuditRow) => r.actor_sid === main.sid],
    ['ActorSid (a subaccount acting on itself)', () => ({ actorSid: subA.sid }), (r: AuditRow) => r.actor_sid === subA.sid],
    ['EventType account.created', () => ({ eventType: 'account.created' }), (r: AuditRow) => r.event_type === 'account.created'],
    ['EventType account.updated', () => ({ eventType: 'account.updated' }), (r: AuditRow) => r.event_type === 'account.updated'],
    ['ResourceSid', () => ({ resourceSid: subA.sid }), (r: AuditRow) => r.resource_sid === subA.sid],
    ['SourceIpAddress', () => ({ sourceIpAddress: apiIp }), (r: AuditRow) => r.source_ip_address === apiIp],
  ])('filters by %s', async (_, params, matches) => {
    const expected = all.filter(matches);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.length).toBeLessThan(all.length);
    expect(sids(await monitor().list(params()))).toEqual(sids(expected));
  });

  it('a filter that matches nothing is an empty page, not an error', async () => {
    expect(await monitor().list({ eventType: 'account.deleted' })).toEqual([]);
    expect(await monitor().list({ sourceIpAddress: '203.0.113.9' })).toEqual([]);
    expect(await monitor().list({ actorSid: `US${'0'.repeat(32)}` })).toEqual([]);
  });

  it('more than one non-date filter is 400', async () => {
    const error = await restError(monitor().list({ actorSid: main.sid, eventType: 'account.created' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe(20002);
    const rawError = await raw(t, `/v1/Events?ResourceSid=${subA.sid}&SourceIpAddress=${apiIp}`, main);
    expect(rawError.status).toBe(400);
    expect(Object.keys(rawError.json).sort()).toEqual(['code', 'message', 'more_info', 'status']);
    // Dates combine with any one filter.
    const withDates = await monitor().list({ resourceSid: subA.sid, startDate: new Date(0), endDate: new Date(Date.now() + 60_000) });
    expect(sids(withDates)).toEqual(sids(all.filter((r) => r.resource_sid === subA.sid)));
  });

  it('rejects malformed paging and dates with Twilio codes', async () => {
    expect((await raw(t, '/v1/Events?PageSize=1001', main)).json).toMatchObject({ status: 400, code: 20007 });
    expect((await raw(t, '/v1/Events?PageSize=0', main)).json).toMatchObject({ status: 400, code: 20002 });
    expect((await raw(t, '/v1/Events?PageToken=PAnope', main)).json).toMatchObject({ status: 400, code: 21481 });
    expect((await raw(t, '/v1/Events?StartDate=yesterday', main)).json).toMatchObject({ status: 400, code: 20002 });
    expect((await raw(t, '/v1/Events?EndDate=2015-02-30', main)).json).toMatchObject({ status: 400, code: 20002 });
  });

  it('needs Basic auth like the Accounts API, and is read-only', async () => {
    const anonymous = await raw(t, '/v1/Events');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe(20003);
    expect(anonymous.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    expect((await raw(t, '/v1/Events', { sid: main.sid, authToken: 'x'.repeat(32) })).status).toBe(401);
    expect((await raw(t, `/v1/Events/${all[0].sid}`)).status).toBe(401);
    expect((await raw(t, '/v1/Events', main, { method: 'DELETE' })).json).toMatchObject({ status: 405, code: 20004 });
    expect((await raw(t, `/v1/Events/${all[0].sid}`, main, { method: 'POST' })).json).toMatchObject({ status: 405, code: 20004 });
  });

  it('an unknown or malformed event sid is 404 20404', async () => {
    const unknown = await restError(monitor().get(`AE${'0'.repeat(32)}`).fetch());
    expect(unknown).toMatchObject({ status: 404, code: 20404 });
    for (const sid of ['AEnothex', all[0].sid.toUpperCase().replace(/^AE/, 'AE'), all[0].sid.replace(/^AE/, 'AC'), `${all[0].sid}.json`]) {
      const response = await raw(t, `/v1/Events/${sid}`, main);
      expect(response.status).toBe(404);
      expect(response.json.code).toBe(20404);
    }
  });

  it('builds absolute URLs on the service’s own address, not on the Host the client sent', async () => {
    const response = await getWithHost(t, '/v1/Events?EventType=account.created&PageSize=1', 'audit.example.test:8443', main);
    expect(response.status).toBe(200);
    // PUBLIC_URL is unset: the address the service listens on (test/api/proxy-and-public-url covers PUBLIC_URL).
    const base = t.baseUrl;
    expect(response.json.meta.first_page_url).toBe(`${base}/v1/Events?EventType=account.created&PageSize=1&Page=0`);
    expect(response.json.meta.next_page_url).toMatch(new RegExp(`^${base}/v1/Events\\?EventType=account.created&PageSize=1&Page=1&PageToken=PA`));
    expect(response.json.events[0].url).toBe(`${base}/v1/Events/${response.json.events[0].sid}`);
    expect(response.json.events[0].links.resource).toMatch(new RegExp(`^${base}/2010-04-01/Accounts/AC`));
  });
});

describe('Monitor Events: StartDate and EndDate', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: { sid: string };
  /** The subaccount's three events, oldest first, one per second. */
  let dates: Date[];

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    // Two whole seconds between changes: there is always a second that falls strictly between.
    await nextSecond();
    sub = await accounts.create({ friendlyName: 'first' });
    await nextSecond();
    await nextSecond();
    await accounts(sub.sid).update({ friendlyName: 'second' });
    await nextSecond();
    await nextSecond();
    await accounts(sub.sid).update({ friendlyName: 'third' });
    await drain(t);
    const events = await clientFor(t, main).monitor.v1.events.list({ resourceSid: sub.sid });
    dates = events.map((e) => e.eventDate).reverse();
    expect(dates).toHaveLength(3);
    expect(dates[1].getTime() - dates[0].getTime()).toBeGreaterThanOrEqual(2000);
    expect(dates[2].getTime() - dates[1].getTime()).toBeGreaterThanOrEqual(2000);
  }, 30_000);
  afterAll(() => t.close());

  const names = (events: EventInstance[]) => events.map((e) => (e.eventData as any).friendly_name.updated);
  const list = (params: { startDate?: Date; endDate?: Date }) => clientFor(t, main).monitor.v1.events.list({ resourceSid: sub.sid, ...params });
  const plus = (date: Date, ms: number) => new Date(date.getTime() + ms);

  it('bounds are inclusive at the second the event happened in', async () => {
    expect(names(await list({ startDate: dates[1] }))).toEqual(['third', 'second']);
    expect(names(await list({ endDate: dates[1] }))).toEqual(['second', 'first']);
    expect(names(await list({ startDate: dates[1], endDate: dates[1] }))).toEqual(['second']);
    expect(names(await list({ startDate: dates[0], endDate: dates[2] }))).toEqual(['third', 'second', 'first']);
  });

  it('a time between two changes splits the history', async () => {
    const between = plus(dates[1], 1000);
    expect(between.getTime()).toBeLessThan(dates[2].getTime());
    expect(names(await list({ endDate: between }))).toEqual(['second', 'first']);
    expect(names(await list({ startDate: between }))).toEqual(['third']);
    expect(names(await list({ startDate: plus(dates[0], 1000), endDate: plus(dates[2], -1000) }))).toEqual(['second']);
  });

  it('an empty or inverted range is an empty page', async () => {
    expect(await list({ startDate: plus(dates[2], 1000) })).toEqual([]);
    expect(await list({ startDate: dates[2], endDate: dates[0] })).toEqual([]);
  });

  it('accepts a plain date (a whole day) and an offset, and echoes the filters into page URLs as sent', async () => {
    const day = dates[0].toISOString().slice(0, 10);
    const response = await raw(t, `/v1/Events?ResourceSid=${sub.sid}&EndDate=${day}&StartDate=${day}`, main);
    expect(response.status).toBe(200);
    // The three changes happen within seconds, but may straddle midnight.
    const sameDay = dates.filter((d) => d.toISOString().startsWith(day)).length;
    expect(response.json.events).toHaveLength(sameDay);
    expect(response.json.meta.url).toBe(`${t.baseUrl}/v1/Events?StartDate=${day}&EndDate=${day}&ResourceSid=${sub.sid}&PageSize=50&Page=0`);
    const offset = await raw(t, `/v1/Events?ResourceSid=${sub.sid}&StartDate=${encodeURIComponent(dates[2].toISOString().replace('Z', '+00:00'))}`, main);
    expect(offset.json.events).toHaveLength(1);
  });
});
