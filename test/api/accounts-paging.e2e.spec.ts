import type { AccountRecord } from '@accountable/accounts';
import type { AccountInstance, AccountPage } from 'twilio/lib/rest/api/v2010/account';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor, LIST_PATH, raw, restError } from './accounts-api.helpers';

const sids = (accounts: readonly { sid: string }[]) => accounts.map((a) => a.sid);

describe('Accounts list: filters, paging, order', () => {
  let t: TestApp;
  let main: AccountRecord;
  /** The main account's list in the contract's order: date_created ascending, sid breaking ties. */
  let ordered: string[];
  const named: Record<string, string[]> = {};

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    // 1 main + 7 subs: exact-match traps (case, trailing space, duplicates) and every status.
    for (const name of ['Alpha', 'alpha', 'Alpha', 'Alpha ', 'Beta', 'Gamma', 'Delta']) {
      const sub = await accounts.create({ friendlyName: name });
      (named[name] ??= []).push(sub.sid);
    }
    await accounts(named.alpha[0]).update({ status: 'suspended' });
    await accounts(named.Beta[0]).update({ status: 'suspended' });
    await accounts(named.Delta[0]).update({ status: 'closed' });
    const { rows } = await t.database.pool.query<{ sid: string }>(
      'SELECT sid FROM account_read_model WHERE owner_account_sid = $1 ORDER BY date_created, sid',
      [main.sid],
    );
    ordered = rows.map((r) => r.sid);
    expect(ordered).toHaveLength(8);
    expect(ordered[0]).toBe(main.sid);
  });
  afterAll(() => t.close());

  it('each({pageSize: 2}) walks four pages and yields every account once, in order (closed ones too)', async () => {
    const client = clientFor(t, main);
    const requests = jest.spyOn(client, 'request');
    const seen: AccountInstance[] = [];
    await client.api.v2010.accounts.each({ pageSize: 2 }, (account: AccountInstance) => {
      seen.push(account);
    });
    expect(sids(seen)).toEqual(ordered);
    expect(requests).toHaveBeenCalledTimes(4);
    expect(seen.find((a) => a.sid === named.Delta[0])?.status).toBe('closed');
  });

  it('list({pageSize}) and list({limit}) across pages', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    expect(sids(await accounts.list({ pageSize: 3 }))).toEqual(ordered);
    expect(sids(await accounts.list({ pageSize: 1 }))).toEqual(ordered);
    expect(sids(await accounts.list({ pageSize: 3, limit: 5 }))).toEqual(ordered.slice(0, 5));
    expect(sids(await accounts.list({ pageSize: 1000 }))).toEqual(ordered);
  });

  it('page() → nextPage() → nextPage() → previousPage() → previousPage() round trip', async () => {
    const p0 = await clientFor(t, main).api.v2010.accounts.page({ pageSize: 3 });
    expect(sids(p0.instances)).toEqual(ordered.slice(0, 3));
    expect(p0.previousPageUrl).toBeUndefined();
    expect(p0._payload).toMatchObject({ page: 0, page_size: 3, start: 0, end: 2, previous_page_uri: null });

    const p1 = (await p0.nextPage())!;
    expect(sids(p1.instances)).toEqual(ordered.slice(3, 6));
    expect(p1._payload).toMatchObject({ page: 1, page_size: 3, start: 3, end: 5 });
    expect(p1._payload.next_page_uri).toMatch(/[?&]PageToken=PA/);
    expect(p1._payload.previous_page_uri).toMatch(/[?&]PageToken=PB/);

    const p2 = (await p1.nextPage())!;
    expect(sids(p2.instances)).toEqual(ordered.slice(6));
    expect(p2._payload).toMatchObject({ page: 2, start: 6, end: 7, next_page_uri: null });
    expect(p2.nextPage()).toBeUndefined();

    const back1 = (await p2.previousPage())!;
    expect(sids(back1.instances)).toEqual(ordered.slice(3, 6));
    expect(back1._payload).toMatchObject({ page: 1, start: 3, end: 5 });
    const back0 = (await back1.previousPage())!;
    expect(sids(back0.instances)).toEqual(ordered.slice(0, 3));
    expect(back0._payload).toMatchObject({ page: 0, start: 0, end: 2, previous_page_uri: null });
    expect(back0.previousPage()).toBeUndefined();
    // And forward again from a page reached backwards.
    expect(sids((await back0.nextPage())!.instances)).toEqual(ordered.slice(3, 6));
  });

  it('Page without a PageToken is an offset; its neighbours are reachable', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const p1 = await accounts.page({ pageSize: 3, pageNumber: 1 });
    expect(sids(p1.instances)).toEqual(ordered.slice(3, 6));
    expect(p1._payload).toMatchObject({ page: 1, start: 3, end: 5 });
    expect(sids((await p1.previousPage())!.instances)).toEqual(ordered.slice(0, 3));
    expect(sids((await p1.nextPage())!.instances)).toEqual(ordered.slice(6));
    const beyond = await accounts.page({ pageSize: 3, pageNumber: 5 });
    expect(beyond.instances).toEqual([]);
    expect(beyond._payload.next_page_uri).toBeNull();
    // Past the end there is still a page before: the offset page, no token to anchor one.
    expect(beyond._payload.previous_page_uri).toBe('/2010-04-01/Accounts.json?PageSize=3&Page=4');
    expect((await beyond.previousPage())!._payload).toMatchObject({ page: 4, start: 12 });
  });

  it('FriendlyName filter: exact and case-sensitive, nothing trimmed', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    expect(sids(await accounts.list({ friendlyName: 'Alpha' }))).toEqual(ordered.filter((s) => named.Alpha.includes(s)));
    expect(named.Alpha).toHaveLength(2);
    expect(sids(await accounts.list({ friendlyName: 'alpha' }))).toEqual(named.alpha);
    expect(sids(await accounts.list({ friendlyName: 'Alpha ' }))).toEqual(named['Alpha ']);
    expect(await accounts.list({ friendlyName: 'ALPHA' })).toEqual([]);
    expect(await accounts.list({ friendlyName: 'Alp' })).toEqual([]);
    expect(sids(await accounts.list({ friendlyName: 'Main' }))).toEqual([main.sid]);
  });

  it('Status filter: exact; closed accounts are listed', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    expect(sids(await accounts.list({ status: 'suspended' }))).toEqual(ordered.filter((s) => s === named.alpha[0] || s === named.Beta[0]));
    expect(sids(await accounts.list({ status: 'closed' }))).toEqual(named.Delta);
    const active = await accounts.list({ status: 'active' });
    expect(sids(active)).toEqual(ordered.filter((s) => ![named.alpha[0], named.Beta[0], named.Delta[0]].includes(s)));
    expect(active.every((a) => a.status === 'active')).toBe(true);
    expect(sids(await accounts.list({ status: 'suspended', friendlyName: 'Beta' }))).toEqual(named.Beta);
    expect(await accounts.list({ status: 'active', friendlyName: 'Beta' })).toEqual([]);
  });

  it('page URIs carry the filters, PageSize, Page and the token', async () => {
    const first = await raw(t, `${LIST_PATH}?FriendlyName=Alpha&PageSize=1`, { as: main });
    expect(first.status).toBe(200);
    expect(first.json.accounts.map((a: { sid: string }) => a.sid)).toEqual([named.Alpha[0]]);
    expect(first.json.uri).toBe('/2010-04-01/Accounts.json?FriendlyName=Alpha&PageSize=1&Page=0');
    expect(first.json.first_page_uri).toBe('/2010-04-01/Accounts.json?FriendlyName=Alpha&PageSize=1&Page=0');
    expect(first.json.next_page_uri).toMatch(/^\/2010-04-01\/Accounts\.json\?FriendlyName=Alpha&PageSize=1&Page=1&PageToken=PA[A-Za-z0-9_-]+$/);

    const second = await raw(t, first.json.next_page_uri, { as: main });
    expect(second.json.accounts.map((a: { sid: string }) => a.sid)).toEqual([named.Alpha[1]]);
    expect(second.json.uri).toBe(first.json.next_page_uri);
    expect(second.json.next_page_uri).toBeNull();
    expect(second.json.previous_page_uri).toMatch(/^\/2010-04-01\/Accounts\.json\?FriendlyName=Alpha&PageSize=1&Page=0&PageToken=PB[A-Za-z0-9_-]+$/);
    const back = await raw(t, second.json.previous_page_uri, { as: main });
    expect(back.json.accounts.map((a: { sid: string }) => a.sid)).toEqual([named.Alpha[0]]);

    // Through twilio-node: a filter with a space survives the round trip.
    const spaced = await clientFor(t, main).api.v2010.accounts.list({ friendlyName: 'Alpha ', pageSize: 1 });
    expect(sids(spaced)).toEqual(named['Alpha ']);
  });

  it('a tampered PageToken → 400 21481, through page() and through a followed URI', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const p0 = await accounts.page({ pageSize: 2 });
    const token = new URL(p0.nextPageUrl!).searchParams.get('PageToken')!;
    const body = token.slice(2);
    const payload = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const [iso, sid] = JSON.parse(Buffer.from(body, 'base64url').toString()) as [string, string];
    const tampered = [
      token.slice(0, -1), // truncated
      `${token}A`, // trailing junk
      `PC${body}`, // unknown direction
      `PA${body.slice(0, 5)}!${body.slice(6)}`, // not base64url
      `PA${payload([iso])}`,
      `PA${payload([iso, sid, 'extra'])}`,
      `PA${payload(['yesterday', sid])}`,
      `PA${payload(['2021-02-30T00:00:00.000Z', sid])}`,
      `PA${payload([iso, sid.toUpperCase()])}`,
      `PA${payload([iso, 'AE' + sid.slice(2)])}`,
      `PA${payload({ date: iso, sid })}`,
    ];
    for (const pageToken of tampered) {
      const error = await restError(accounts.page({ pageSize: 2, pageToken }));
      expect([pageToken, error.status, error.code]).toEqual([pageToken, 400, 21481]);
    }
    const url = new URL(p0.nextPageUrl!);
    url.searchParams.set('PageToken', tampered[0]);
    expect(await restError(accounts.getPage(url.toString()))).toMatchObject({ status: 400, code: 21481 });
  });
});

describe('Accounts list: sid breaks ties in date_created', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('pages across a run of equal timestamps without losing or repeating a row', async () => {
    const main = await t.createMain('Ties', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    const subs: string[] = [];
    for (let i = 0; i < 5; i++) subs.push((await accounts.create({ friendlyName: `tie ${i}` })).sid);
    // Equal creation instants cannot be forced through the API; the read model is where the
    // list's order lives, so the tie is set up there (all five subs created in one millisecond).
    await t.database.pool.query(`UPDATE account_read_model SET date_created = date_trunc('milliseconds', now()) WHERE sid = ANY($1)`, [subs]);
    const expected = [main.sid, ...[...subs].sort()];
    for (const pageSize of [1, 2, 3]) {
      const seen: string[] = [];
      await accounts.each({ pageSize }, (a: AccountInstance) => {
        seen.push(a.sid);
      });
      expect(seen).toEqual(expected);
    }
    // Backwards across the tie as well.
    type AnyPage = Pick<AccountPage, 'instances' | 'nextPageUrl' | 'previousPageUrl' | 'nextPage' | 'previousPage'>;
    let page: AnyPage = await accounts.page({ pageSize: 2 });
    while (page.nextPageUrl) page = (await page.nextPage())!;
    const backwards: string[][] = [sids(page.instances)];
    while (page.previousPageUrl) {
      page = (await page.previousPage())!;
      backwards.unshift(sids(page.instances));
    }
    expect(backwards.flat()).toEqual(expected);
  });
});
