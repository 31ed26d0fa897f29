import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, eventCount, LIST_PATH, raw, restError, streamEvents } from './accounts-api.helpers';

const SID = /^AC[0-9a-f]{32}$/;
const DEFAULT_NAME = /^SubAccount Created at \d{4}-\d{2}-\d{2} (0[1-9]|1[0-2]):[0-5]\d (am|pm)$/;

/** COMPAT.md's default name, written out independently of the service's formatter. */
function defaultNameAt(at: Date): string {
  const [date, time] = at.toISOString().split('T');
  const [h, m] = time.split(':').map(Number);
  const hour12 = String(h % 12 === 0 ? 12 : h % 12).padStart(2, '0');
  return `SubAccount Created at ${date} ${hour12}:${String(m).padStart(2, '0')} ${h < 12 ? 'am' : 'pm'}`;
}

describe('Accounts API through twilio-node: every operation', () => {
  let t: TestApp;
  let main: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
  });
  afterAll(() => t.close());

  it('creates a subaccount with a FriendlyName: 201, owned by the caller, of its type, with working credentials', async () => {
    const { statusCode, body: sub } = await clientFor(t, main).api.v2010.accounts.createWithHttpInfo({ friendlyName: 'Sales' });
    expect(statusCode).toBe(201);
    expect(sub.sid).toMatch(SID);
    expect(sub.sid).not.toBe(main.sid);
    expect(sub).toMatchObject({ friendlyName: 'Sales', ownerAccountSid: main.sid, status: 'active', type: 'Full', uri: accountPath(sub.sid) });
    expect(sub.authToken).toMatch(/^[0-9a-f]{32}$/);
    expect(sub.dateCreated).toBeInstanceOf(Date);
    expect(sub.dateUpdated.getTime()).toBe(sub.dateCreated.getTime());
    // The returned token authenticates at once (no read-model lag for credentials).
    const self = await clientFor(t, sub).api.v2010.accounts(sub.sid).fetch();
    expect(self.sid).toBe(sub.sid);
  });

  it('creates a subaccount without a FriendlyName under the dated default name (UTC, 12-hour clock)', async () => {
    const before = new Date();
    const sub = await clientFor(t, main).api.v2010.accounts.create();
    const after = new Date();
    expect(sub.friendlyName).toMatch(DEFAULT_NAME);
    // The name is taken at creation: one of the minutes the request spanned.
    expect([defaultNameAt(before), defaultNameAt(after)]).toContain(sub.friendlyName);
  });

  it('fetches the caller itself and its subaccount', async () => {
    const client = clientFor(t, main);
    const created = await client.api.v2010.accounts.create({ friendlyName: 'Fetch me' });
    const self = await client.api.v2010.accounts(main.sid).fetch();
    expect(self).toMatchObject({ sid: main.sid, ownerAccountSid: main.sid, friendlyName: 'Main', status: 'active', type: 'Full', authToken: main.authToken });
    const fetched = await client.api.v2010.accounts(created.sid).fetch();
    expect(fetched.toJSON()).toEqual(created.toJSON());
  });

  it('lists the caller and all its subaccounts, oldest first', async () => {
    const client = clientFor(t, main);
    const fresh = await client.api.v2010.accounts.create({ friendlyName: 'Newest' });
    const all = await client.api.v2010.accounts.list();
    expect(all[0].sid).toBe(main.sid);
    expect(all[all.length - 1].sid).toBe(fresh.sid);
    expect(all.every((a) => a.ownerAccountSid === main.sid)).toBe(true);
    const { rows } = await t.database.pool.query('SELECT sid FROM account_read_model WHERE owner_account_sid = $1', [main.sid]);
    expect(all.map((a) => a.sid).sort()).toEqual(rows.map((r) => r.sid).sort());
  });

  it('renames, changes the status, and does both at once', async () => {
    const client = clientFor(t, main);
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'Before' });

    const renamed = await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'After' });
    expect([renamed.friendlyName, renamed.status]).toEqual(['After', 'active']);

    const suspended = await client.api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    expect([suspended.friendlyName, suspended.status]).toEqual(['After', 'suspended']);

    const both = await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'Both', status: 'active' });
    expect([both.friendlyName, both.status]).toEqual(['Both', 'active']);
    expect((await client.api.v2010.accounts(sub.sid).fetch()).toJSON()).toEqual(both.toJSON());

    // One event per change; both at once: the rename first, then the status change.
    expect((await streamEvents(t, sub.sid)).map((e) => [e.type, e.data.friendlyName ?? e.data.status])).toEqual([
      ['SubaccountCreated', 'Before'],
      ['AccountRenamed', 'After'],
      ['AccountStatusChanged', 'suspended'],
      ['AccountRenamed', 'Both'],
      ['AccountStatusChanged', 'active'],
    ]);
  });

  it("the README's twilio-node example runs as written: creates, suspends, and lists every account", async () => {
    const readme = readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
    const block = /With twilio-node:\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toContain("client.api.baseUrl = 'http://127.0.0.1:3000';");
    // Only the address changes: the test server listens on a port of its own.
    const code = block!.replace("'http://127.0.0.1:3000'", JSON.stringify(t.baseUrl));
    const printed: unknown[] = [];
    const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
    await new AsyncFunction('require', 'accountSid', 'authToken', 'console', code)(require, main.sid, main.authToken, { log: (line: unknown) => printed.push(line) });
    const { rows } = await t.database.pool.query<{ sid: string; friendly_name: string; status: string }>(
      'SELECT sid, friendly_name, status FROM account_read_model WHERE owner_account_sid = $1 ORDER BY date_created, sid',
      [main.sid],
    );
    expect(printed).toEqual(rows.map((r) => r.sid));
    expect(rows.filter((r) => r.friendly_name === 'customer 42').map((r) => r.status)).toEqual(['suspended']);
  });

  it('an update that changes nothing stores nothing', async () => {
    const client = clientFor(t, main);
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'Same' });
    const before = await eventCount(t);
    const same = await client.api.v2010.accounts(sub.sid).update({ friendlyName: 'Same', status: 'active' });
    expect([same.friendlyName, same.status]).toEqual(['Same', 'active']);
    expect(await eventCount(t)).toBe(before);
  });
});

describe('Accounts API through twilio-node: every error code of COMPAT.md', () => {
  let t: TestApp;
  let main: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
  });
  afterAll(() => t.close());

  /** Runs a failing call and asserts that it changed nothing in the log. */
  async function refused(operation: () => Promise<unknown>) {
    const before = await eventCount(t);
    const error = await restError(operation());
    expect(await eventCount(t)).toBe(before);
    expect(error.moreInfo).toBe(`https://www.twilio.com/docs/errors/${error.code}`);
    expect(typeof error.message).toBe('string');
    return error;
  }

  it('20002: a FriendlyName of 65 characters, empty, or only white space, on create and on update', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const sub = await accounts.create({ friendlyName: 'ok' });
    for (const friendlyName of ['x'.repeat(65), '', ' ', '   ', '\t\n\u00a0\u3000']) {
      expect(await refused(() => accounts.create({ friendlyName }))).toMatchObject({ status: 400, code: 20002 });
      expect(await refused(() => accounts(sub.sid).update({ friendlyName }))).toMatchObject({ status: 400, code: 20002 });
    }
    expect((await accounts.create({ friendlyName: 'x'.repeat(64) })).friendlyName).toHaveLength(64);
  });

  it('20003: a wrong token, an unknown sid', async () => {
    const wrongToken = clientFor(t, { sid: main.sid, authToken: '0'.repeat(32) });
    expect(await refused(() => wrongToken.api.v2010.accounts(main.sid).fetch())).toMatchObject({ status: 401, code: 20003 });
    const unknown = clientFor(t, { sid: `AC${'f'.repeat(32)}`, authToken: main.authToken });
    expect(await refused(() => unknown.api.v2010.accounts.list())).toMatchObject({ status: 401, code: 20003 });
    expect(await refused(() => unknown.api.v2010.accounts.create())).toMatchObject({ status: 401, code: 20003 });
  });

  it('20004 (raw: twilio-node has no DELETE or PUT for accounts)', async () => {
    for (const [method, path] of [['DELETE', LIST_PATH], ['PUT', LIST_PATH], ['DELETE', accountPath(main.sid)], ['PUT', accountPath(main.sid)]]) {
      const res = await raw(t, path, { method, as: main });
      expect([method, path, res.status, res.json?.code]).toEqual([method, path, 405, 20004]);
    }
  });

  it('20006: a subaccount changing its own status', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'self' });
    for (const status of ['suspended', 'closed', 'active'] as const) {
      expect(await refused(() => clientFor(t, sub).api.v2010.accounts(sub.sid).update({ status }))).toMatchObject({ status: 403, code: 20006 });
    }
  });

  it('20007: PageSize over 1000', async () => {
    expect(await refused(() => clientFor(t, main).api.v2010.accounts.page({ pageSize: 1001 }))).toMatchObject({ status: 400, code: 20007 });
    expect((await clientFor(t, main).api.v2010.accounts.page({ pageSize: 1000 })).instances.length).toBeGreaterThan(0);
  });

  it('20404: an unknown sid, on fetch and on update', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const nobody = `AC${'0'.repeat(32)}`;
    expect(await refused(() => accounts(nobody).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect(await refused(() => accounts(nobody).update({ friendlyName: 'x' }))).toMatchObject({ status: 404, code: 20404 });
  });

  it('21101: a subaccount creating a subaccount', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'no children' });
    expect(await refused(() => clientFor(t, sub).api.v2010.accounts.create({ friendlyName: 'grandchild' }))).toMatchObject({ status: 400, code: 21101 });
  });

  it('21475: a Status outside the enum, on update and as a list filter (case-sensitive)', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const sub = await accounts.create({ friendlyName: 'status' });
    // '1': the numeric Status of Twilio's own OpenAPI example (updateWithNumericStatus) names no status here.
    for (const status of ['bogus', 'Active', '', '1', '0'] as any[]) {
      expect(await refused(() => accounts(sub.sid).update({ status }))).toMatchObject({ status: 400, code: 21475 });
      expect(await refused(() => accounts.list({ status }))).toMatchObject({ status: 400, code: 21475 });
    }
    // A bad Status next to a good FriendlyName: all or nothing.
    expect(await refused(() => accounts(sub.sid).update({ friendlyName: 'renamed?', status: 'bogus' as any }))).toMatchObject({ code: 21475 });
    expect((await accounts(sub.sid).fetch()).friendlyName).toBe('status');
  });

  it('21477: a main account changing its own status', async () => {
    for (const status of ['suspended', 'closed', 'active'] as const) {
      expect(await refused(() => clientFor(t, main).api.v2010.accounts(main.sid).update({ status }))).toMatchObject({ status: 400, code: 21477 });
    }
    // Renaming itself is fine.
    expect((await clientFor(t, main).api.v2010.accounts(main.sid).update({ friendlyName: 'Main renamed' })).friendlyName).toBe('Main renamed');
  });

  it('21479: any change to a closed account', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    const sub = await accounts.create({ friendlyName: 'to close' });
    expect((await accounts(sub.sid).update({ status: 'closed' })).status).toBe('closed');
    for (const change of [{ friendlyName: 'again' }, { status: 'active' }, { status: 'suspended' }, { status: 'closed' }] as const) {
      expect(await refused(() => accounts(sub.sid).update(change))).toMatchObject({ status: 400, code: 21479 });
    }
    expect((await accounts(sub.sid).fetch()).status).toBe('closed');
  });

  it('21480: the Trial limit of one open subaccount; closing one frees the slot', async () => {
    const trial = await t.createMain('Trial main', 'Trial');
    const accounts = clientFor(t, trial).api.v2010.accounts;
    const first = await accounts.create({ friendlyName: 'only one' });
    expect(first.type).toBe('Trial');
    expect(await refused(() => accounts.create({ friendlyName: 'two' }))).toMatchObject({ status: 400, code: 21480 });
    // Suspended still counts; closed does not.
    await accounts(first.sid).update({ status: 'suspended' });
    expect(await refused(() => accounts.create({ friendlyName: 'two' }))).toMatchObject({ status: 400, code: 21480 });
    await accounts(first.sid).update({ status: 'closed' });
    const second = await accounts.create({ friendlyName: 'two' });
    expect(second.status).toBe('active');
    expect(await refused(() => accounts.create({ friendlyName: 'three' }))).toMatchObject({ status: 400, code: 21480 });
  });

  it('21481: a PageToken the service did not issue', async () => {
    const accounts = clientFor(t, main).api.v2010.accounts;
    for (const pageToken of ['PAgarbage', 'PB', 'XX' + Buffer.from('["2020-01-01T00:00:00.000Z","AC00"]').toString('base64url'), 'PA' + 'A'.repeat(300)]) {
      expect(await refused(() => accounts.page({ pageToken }))).toMatchObject({ status: 400, code: 21481 });
    }
  });

  // 21476 (status change while the owner is suspended) needs the operator and a request in
  // flight across the suspension: see owner-cascade.e2e.spec.ts.
});
