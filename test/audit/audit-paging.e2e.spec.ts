import type { AccountRecord } from '@accountable/accounts';
import type { EventInstance } from 'twilio/lib/rest/monitor/v1/event';
import { startTestApp, type TestApp } from '../support/test-app';
import { auditRows, clientFor, drain, raw, sids } from './audit.helpers';

describe('Monitor Events: paging', () => {
  let t: TestApp;
  let main: AccountRecord;
  /** The main account's history in list order: newest first. */
  let ordered: string[];
  let created: string[];

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    for (let i = 0; i < 8; i++) {
      const sub = await accounts.create({ friendlyName: `sub ${i}` });
      if (i % 2 === 0) await accounts(sub.sid).update({ friendlyName: `sub ${i} renamed` });
    }
    await drain(t);
    const rows = await auditRows(t);
    ordered = sids(rows);
    created = sids(rows.filter((r) => r.event_type === 'account.created'));
    expect(ordered).toHaveLength(13);
    expect(created).toHaveLength(9);
  });
  afterAll(() => t.close());

  const events = () => clientFor(t, main).monitor.v1.events;
  /** The v1 envelope's meta, as the server sent it. */
  const meta = (page: { _payload: unknown }): any => (page._payload as { meta: unknown }).meta;

  it('each({pageSize}) walks every page and yields each event once, newest first', async () => {
    const client = clientFor(t, main);
    const requests = jest.spyOn(client, 'request');
    const seen: EventInstance[] = [];
    await client.monitor.v1.events.each({ pageSize: 4 }, (event: EventInstance) => {
      seen.push(event);
    });
    expect(sids(seen)).toEqual(ordered);
    expect(requests).toHaveBeenCalledTimes(4);
  });

  it('list() across pages, with and without a filter and a limit', async () => {
    expect(sids(await events().list({ pageSize: 1 }))).toEqual(ordered);
    expect(sids(await events().list({ pageSize: 5 }))).toEqual(ordered);
    expect(sids(await events().list({ pageSize: 5, limit: 7 }))).toEqual(ordered.slice(0, 7));
    expect(sids(await events().list({ pageSize: 1000 }))).toEqual(ordered);
    expect(sids(await events().list({ eventType: 'account.created', pageSize: 2 }))).toEqual(created);
  });

  it('page() → nextPage() → previousPage() round trip with PageToken', async () => {
    const p0 = await events().page({ pageSize: 5 });
    expect(sids(p0.instances)).toEqual(ordered.slice(0, 5));
    expect(meta(p0)).toMatchObject({ page: 0, page_size: 5, previous_page_url: null, key: 'events' });
    expect(meta(p0).next_page_url).toMatch(new RegExp(`^${t.baseUrl}/v1/Events\\?PageSize=5&Page=1&PageToken=PA`));

    const p1 = (await p0.nextPage())!;
    expect(sids(p1.instances)).toEqual(ordered.slice(5, 10));
    expect(meta(p1).page).toBe(1);
    expect(meta(p1).previous_page_url).toMatch(/[?&]Page=0&PageToken=PB/);

    const p2 = (await p1.nextPage())!;
    expect(sids(p2.instances)).toEqual(ordered.slice(10));
    expect(meta(p2).next_page_url).toBeNull();
    expect(p2.nextPage()).toBeUndefined();

    const back1 = (await p2.previousPage())!;
    expect(sids(back1.instances)).toEqual(ordered.slice(5, 10));
    const back0 = (await back1.previousPage())!;
    expect(sids(back0.instances)).toEqual(ordered.slice(0, 5));
    expect(meta(back0).previous_page_url).toBeNull();
  });

  it('page URLs carry the filter, and the first page URL has no token', async () => {
    const { json } = await raw(t, '/v1/Events?EventType=account.created&PageSize=4', main);
    expect(json.events.map((e: { sid: string }) => e.sid)).toEqual(created.slice(0, 4));
    expect(json.meta.first_page_url).toBe(`${t.baseUrl}/v1/Events?EventType=account.created&PageSize=4&Page=0`);
    expect(json.meta.url).toBe(json.meta.first_page_url);
    const next = await fetch(json.meta.next_page_url, { headers: { authorization: `Basic ${Buffer.from(`${main.sid}:${main.authToken}`).toString('base64')}` } });
    const body: any = await next.json();
    expect(body.events.map((e: { sid: string }) => e.sid)).toEqual(created.slice(4, 8));
    expect(body.meta.url).toBe(json.meta.next_page_url);
  });

  it('Page without a token starts at Page × PageSize', async () => {
    const { json } = await raw(t, '/v1/Events?PageSize=5&Page=2', main);
    expect(json.events.map((e: { sid: string }) => e.sid)).toEqual(ordered.slice(10));
    expect(json.meta).toMatchObject({ page: 2, next_page_url: null });
    expect(json.meta.previous_page_url).toMatch(/[?&]Page=1&PageToken=PB/);
    expect((await raw(t, '/v1/Events?PageSize=5&Page=9', main)).json.events).toEqual([]);
  });

  it('keyset pages stay stable while new events arrive', async () => {
    const p0 = await events().page({ pageSize: 5 });
    await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'late' });
    await drain(t);
    const p1 = (await p0.nextPage())!;
    expect(sids(p1.instances)).toEqual(ordered.slice(5, 10));
    const p2 = (await p1.nextPage())!;
    expect(sids(p2.instances)).toEqual(ordered.slice(10));
    const newest = await events().list({ limit: 1 });
    expect(ordered).not.toContain(newest[0].sid);
  });
});
