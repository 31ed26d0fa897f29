import { CommandBus } from '@nestjs/cqrs';
import { MainAccountOperationCommand, OPERATOR, type AccountRecord } from '@accountable/accounts';
import type { AccountHistoryPage, AccountStateResource } from '@accountable/twilio';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor, raw, settle, streamEvents, type Credentials } from './accounts-api.helpers';

const historyPath = (sid: string, query = '') => `/v1/Accounts/${sid}/History${query}`;
const statePath = (sid: string, query = '') => `/v1/Accounts/${sid}/State${query}`;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Our addition: an account's history and state-at, tenant-scoped exactly as the Accounts API. */
describe('Account history and state-at (/v1/Accounts/{Sid}/History, /State)', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: Credentials;
  let sibling: Credentials;
  let renameRequestId: string;
  let between: string;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('History main', 'Full');
    const client = clientFor(t, main);
    sub = await client.api.v2010.accounts.create({ friendlyName: 'first name' });
    sibling = await client.api.v2010.accounts.create({ friendlyName: 'sibling' });
    await pause(20);
    const renamed = await raw(t, `/2010-04-01/Accounts/${sub.sid}.json`, { as: main, body: { FriendlyName: 'second name' }, headers: { 'user-agent': 'history-test/1.0' } });
    expect(renamed.status).toBe(200);
    renameRequestId = renamed.headers.get('twilio-request-id')!;
    await pause(30);
    between = new Date().toISOString();
    await pause(30);
    await client.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    await client.api.v2010.accounts(sub.sid).update({ status: 'active' });
  });
  afterAll(() => t.close());

  it('lists every event oldest first: who, when, from where, via what, each change and the state after it', async () => {
    const response = await raw(t, historyPath(sub.sid), { as: main });
    expect(response.status).toBe(200);
    const page = response.json as AccountHistoryPage;
    expect(page).toMatchObject({ account_sid: sub.sid, version: 4, page: 0, page_size: 50, start: 0, end: 3, next_page_uri: null, previous_page_uri: null });
    expect(page.uri).toBe(`/v1/Accounts/${sub.sid}/History?PageSize=50&Page=0`);
    expect(page.history.map((e) => [e.version, e.type])).toEqual([
      [1, 'SubaccountCreated'],
      [2, 'AccountRenamed'],
      [3, 'AccountStatusChanged'],
      [4, 'AccountStatusChanged'],
    ]);
    const [created, renamed, suspended] = page.history;
    expect(created.changes).toEqual({
      friendly_name: { previous: null, updated: 'first name' },
      owner_account_sid: { previous: null, updated: main.sid },
      status: { previous: null, updated: 'active' },
      type: { previous: null, updated: 'Full' },
    });
    expect(renamed).toMatchObject({
      actor_type: 'account',
      actor_sid: main.sid,
      source: 'api',
      source_ip_address: '127.0.0.1',
      user_agent: 'history-test/1.0',
      request_id: renameRequestId,
      reason: null,
      changes: { friendly_name: { previous: 'first name', updated: 'second name' } },
      state: { sid: sub.sid, friendly_name: 'second name', status: 'active', version: 2 },
      caused_by: null,
      caused: [],
      caused_more: false,
    });
    expect(renamed.recorded_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(suspended).toMatchObject({ reason: 'requested', changes: { status: { previous: 'active', updated: 'suspended' } } });
    // The event sid is Monitor's: the same event is in the audit trail.
    await settle(t);
    expect((await raw(t, `/v1/Events/${renamed.sid}`, { as: main })).json).toMatchObject({ sid: renamed.sid, resource_sid: sub.sid });
  });

  it('never carries an auth token, plain or sealed', async () => {
    const stored = await streamEvents(t, sub.sid);
    const sealed = stored[0].data.authToken as string;
    expect(sealed).toBeTruthy();
    for (const path of [historyPath(sub.sid), statePath(sub.sid, '?Version=1'), historyPath(main.sid)]) {
      const { text } = await raw(t, path, { as: main });
      expect(text).not.toContain(sub.authToken);
      expect(text).not.toContain(main.authToken);
      expect(text).not.toContain(sealed);
      expect(text).not.toMatch(/auth_?token/i);
    }
  });

  it('pages by version ranges: stable URIs, no token needed', async () => {
    const first = (await raw(t, historyPath(sub.sid, '?PageSize=3'), { as: main })).json as AccountHistoryPage;
    expect(first.history.map((e) => e.version)).toEqual([1, 2, 3]);
    expect(first.next_page_uri).toBe(`/v1/Accounts/${sub.sid}/History?PageSize=3&Page=1`);
    const second = (await raw(t, first.next_page_uri!, { as: main })).json as AccountHistoryPage;
    expect(second).toMatchObject({ page: 1, start: 3, end: 3, next_page_uri: null, previous_page_uri: `/v1/Accounts/${sub.sid}/History?PageSize=3&Page=0` });
    expect(second.history.map((e) => e.version)).toEqual([4]);
    // Each page's states are folded from version 1, not from the page's start.
    expect(second.history[0].state).toMatchObject({ friendly_name: 'second name', status: 'active', version: 4 });
    const beyond = (await raw(t, historyPath(sub.sid, '?PageSize=3&Page=9'), { as: main })).json as AccountHistoryPage;
    expect(beyond).toMatchObject({ history: [], version: 4, next_page_uri: null, previous_page_uri: `/v1/Accounts/${sub.sid}/History?PageSize=3&Page=1` });
  });

  it.each([
    ['?PageSize=0', 20002],
    ['?PageSize=abc', 20002],
    ['?PageSize=1001', 20007],
    ['?Page=-1', 20002],
    ['?Page=1.5', 20002],
  ])('History%s → 400 %i, nothing else read', async (query, code) => {
    const response = await raw(t, historyPath(sub.sid, query), { as: main });
    expect([response.status, response.json.code]).toEqual([400, code]);
  });

  it('State?Version=1 is the first state, with what differs now', async () => {
    const response = await raw(t, statePath(sub.sid, '?Version=1'), { as: main });
    expect(response.status).toBe(200);
    const state = response.json as AccountStateResource;
    expect(state).toMatchObject({
      account_sid: sub.sid,
      requested_version: 1,
      as_of: null,
      state: { sid: sub.sid, friendly_name: 'first name', status: 'active', version: 1 },
      current: { friendly_name: 'second name', status: 'active', version: 4 },
      uri: `/v1/Accounts/${sub.sid}/State?Version=1`,
    });
    expect(state.differences.friendly_name).toEqual({ then: 'first name', now: 'second name' });
    expect(state.differences).not.toHaveProperty('status');
    const now = (await raw(t, statePath(sub.sid, '?Version=4'), { as: main })).json as AccountStateResource;
    expect(now.differences).toEqual({});
    expect(now.state).toEqual(now.current);
  });

  it('State?AsOf: the state at an instant, inclusive at the precision written; before the account existed, none', async () => {
    const at = (await raw(t, statePath(sub.sid, `?AsOf=${encodeURIComponent(between)}`), { as: main })).json as AccountStateResource;
    expect(at.state).toMatchObject({ friendly_name: 'second name', status: 'active', version: 2 });
    expect(at.as_of).toBe(between);
    const before = (await raw(t, statePath(sub.sid, '?AsOf=2000-01-01'), { as: main })).json as AccountStateResource;
    expect(before).toMatchObject({ state: null, as_of: '2000-01-01T23:59:59.999Z', current: { version: 4 } });
    expect(Object.keys(before.differences).sort()).toEqual(['date_updated', 'friendly_name', 'owner_account_sid', 'status', 'type']);
  });

  it.each([
    ['', 'neither'],
    ['?Version=1&AsOf=2020-01-01', 'both'],
    ['?Version=0', 'version 0'],
    ['?Version=abc', 'not a number'],
    ['?Version=5', 'after the current version'],
    ['?Version=99999999999999999999', 'too large'],
    ['?AsOf=yesterday', 'not ISO 8601'],
    ['?AsOf=2026-02-30', 'no such day'],
    [`?AsOf=2026-01-01T00:00:00.${'1'.repeat(100)}Z`, 'overlong'],
  ])('State%s (%s) → 400 20002', async (query) => {
    const response = await raw(t, statePath(sub.sid, query), { as: main });
    expect([response.status, response.json.code]).toEqual([400, 20002]);
  });

  it('is scoped as the Accounts API: another tenant’s or a sibling’s account is 404 20404, as is a malformed sid', async () => {
    const other = await t.createMain('Other tenant', 'Full');
    for (const path of [historyPath, statePath]) {
      const query = path === statePath ? '?Version=1' : '';
      // The owner sees its subaccount; the subaccount sees itself.
      expect((await raw(t, path(sub.sid, query), { as: main })).status).toBe(200);
      expect((await raw(t, path(sub.sid, query), { as: sub })).status).toBe(200);
      for (const [as, sid] of [
        [other, sub.sid],
        [other, main.sid],
        [sibling, sub.sid],
        [sub, main.sid],
        [main, other.sid],
        [main, 'ACnot-a-sid'],
        [main, `AC${'0'.repeat(32)}`],
      ] as const) {
        const response = await raw(t, path(sid, query), { as });
        expect([response.status, response.json.code]).toEqual([404, 20404]);
        expect(response.text).not.toContain('first name');
      }
      expect((await raw(t, path(sub.sid, query))).status).toBe(401);
      expect((await raw(t, path(sub.sid, query), { as: { sid: main.sid, authToken: 'f'.repeat(32) } })).status).toBe(401);
    }
  });

  it('links a cascade to its cause both ways, as far as the caller may see', async () => {
    const commands = t.app.get(CommandBus);
    await commands.execute(new MainAccountOperationCommand(main.sid, 'suspend', OPERATOR));
    await settle(t);
    await commands.execute(new MainAccountOperationCommand(main.sid, 'reactivate', OPERATOR));
    await settle(t);

    const mainHistory = (await raw(t, historyPath(main.sid), { as: main })).json as AccountHistoryPage;
    const suspension = mainHistory.history.find((e) => e.reason === 'operator' && e.changes.status?.updated === 'suspended')!;
    expect(suspension).toMatchObject({ actor_type: 'operator', source: 'cli', caused_by: null, caused_more: false });
    const subHistory = (await raw(t, historyPath(sub.sid), { as: main })).json as AccountHistoryPage;
    const cascaded = subHistory.history.find((e) => e.reason === 'owner_suspended')!;
    expect(cascaded).toMatchObject({ actor_type: 'system', source: 'system' });
    expect(cascaded.caused_by).toEqual({ sid: suspension.sid, account_sid: main.sid, version: suspension.version, type: 'AccountStatusChanged' });
    expect(suspension.caused).toEqual(
      expect.arrayContaining([{ sid: cascaded.sid, account_sid: sub.sid, version: cascaded.version, type: 'AccountStatusChanged' }]),
    );
    expect(suspension.caused.map((l) => l.account_sid).sort()).toEqual([sub.sid, sibling.sid].sort());
    const reactivation = subHistory.history.find((e) => e.reason === 'owner_reactivated')!;
    expect(reactivation.caused_by).toMatchObject({ account_sid: main.sid, version: suspension.version + 1 });

    // The subaccount itself may not see its owner's history: the cause is not named to it.
    const ownView = (await raw(t, historyPath(sub.sid), { as: sub })).json as AccountHistoryPage;
    expect(ownView.history.find((e) => e.reason === 'owner_suspended')!.caused_by).toBeNull();
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405 20004', async (method) => {
    for (const path of [historyPath(sub.sid), statePath(sub.sid)]) {
      const response = await raw(t, path, { as: main, method });
      expect([response.status, response.json.code]).toEqual([405, 20004]);
    }
  });
});
