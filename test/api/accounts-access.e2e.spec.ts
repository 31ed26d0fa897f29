import { CommandBus } from '@nestjs/cqrs';
import { MainAccountOperationCommand, OPERATOR, type AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, eventCount, LIST_PATH, raw, restError, type Credentials } from './accounts-api.helpers';

const sids = (accounts: readonly { sid: string }[]) => accounts.map((a) => a.sid);

describe('Accounts API: who sees what', () => {
  let t: TestApp;
  let a: AccountRecord;
  let b: AccountRecord;
  let a1: Credentials;
  let a2: Credentials;
  let b1: Credentials;

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.createMain('Tenant A', 'Full');
    b = await t.createMain('Tenant B', 'Full');
    a1 = await clientFor(t, a).api.v2010.accounts.create({ friendlyName: 'A one' });
    a2 = await clientFor(t, a).api.v2010.accounts.create({ friendlyName: 'A two' });
    b1 = await clientFor(t, b).api.v2010.accounts.create({ friendlyName: 'B one' });
  });
  afterAll(() => t.close());

  it('a main account sees itself and its subaccounts; a subaccount sees only itself', async () => {
    expect(sids(await clientFor(t, a).api.v2010.accounts.list())).toEqual([a.sid, a1.sid, a2.sid]);
    expect(sids(await clientFor(t, b).api.v2010.accounts.list())).toEqual([b.sid, b1.sid]);
    expect(sids(await clientFor(t, a1).api.v2010.accounts.list())).toEqual([a1.sid]);
    expect(sids(await clientFor(t, a1).api.v2010.accounts.list({ friendlyName: 'A two' }))).toEqual([]);
    expect(sids(await clientFor(t, a1).api.v2010.accounts.list({ friendlyName: 'Tenant A' }))).toEqual([]);
    expect((await clientFor(t, a1).api.v2010.accounts(a1.sid).fetch()).sid).toBe(a1.sid);
  });

  it.each([
    ['a subaccount → its owner', () => [a1, a]],
    ['a subaccount → its sibling', () => [a1, a2]],
    ['a subaccount → another tenant', () => [a1, b1]],
    ['a main account → another main account', () => [a, b]],
    ['a main account → another tenant’s subaccount', () => [a, b1]],
  ] as [string, () => [Credentials, Credentials]][])('%s: 404 20404 on fetch and update, nothing changed', async (_, pair) => {
    const [caller, target] = pair();
    const accounts = clientFor(t, caller).api.v2010.accounts;
    const before = await eventCount(t);
    expect(await restError(accounts(target.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    for (const change of [{ friendlyName: 'hijacked' }, { status: 'suspended' }, { status: 'bogus' }, { friendlyName: '' }] as any[]) {
      expect(await restError(accounts(target.sid).update(change))).toMatchObject({ status: 404, code: 20404 });
    }
    expect(await eventCount(t)).toBe(before);
  });

  it('the 404 for someone else’s account is indistinguishable from one for a sid that never existed', async () => {
    const nobody = `AC${'0'.repeat(32)}`;
    for (const [method, body] of [['GET', undefined], ['POST', { FriendlyName: 'x' }], ['POST', { Status: 'closed' }]] as const) {
      const theirs = await raw(t, accountPath(b1.sid), { method, as: a, body });
      const none = await raw(t, accountPath(nobody), { method, as: a, body });
      expect(theirs.status).toBe(404);
      expect(theirs.json).toEqual({ ...none.json, message: none.json.message.replace(nobody, b1.sid) });
    }
  });

  it('a PageToken cannot reach another tenant’s rows', async () => {
    // Tokens taken at both ends of tenant A's list, in both directions.
    const page = await clientFor(t, a).api.v2010.accounts.page({ pageSize: 1 });
    const next = new URL(page.nextPageUrl!).searchParams.get('PageToken')!;
    const last = await clientFor(t, a).api.v2010.accounts.page({ pageSize: 1, pageNumber: 2 });
    const previous = new URL(last.previousPageUrl!).searchParams.get('PageToken')!;
    const farFuture = `PB${Buffer.from(JSON.stringify(['2999-01-01T00:00:00.000Z', `AC${'f'.repeat(32)}`])).toString('base64url')}`;
    const farPast = `PA${Buffer.from(JSON.stringify(['2000-01-01T00:00:00.000Z', `AC${'0'.repeat(32)}`])).toString('base64url')}`;
    for (const pageToken of [next, previous, farFuture, farPast]) {
      for (const [caller, own] of [[b, [b.sid, b1.sid]], [b1, [b1.sid]], [a1, [a1.sid]]] as const) {
        const rows = sids((await clientFor(t, caller).api.v2010.accounts.page({ pageSize: 50, pageToken })).instances);
        expect(rows.every((sid) => own.includes(sid))).toBe(true);
      }
    }
  });
});

describe('Accounts API: credentials and who may change what', () => {
  let t: TestApp;
  let main: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
  });
  afterAll(() => t.close());

  async function expectInactive(account: Credentials) {
    const accounts = clientFor(t, account).api.v2010.accounts;
    for (const call of [() => accounts(account.sid).fetch(), () => accounts.list(), () => accounts(account.sid).update({ friendlyName: 'x' }), () => accounts.create()]) {
      const error = await restError(call());
      expect(error).toMatchObject({ status: 401, code: 20003 });
      expect(error.message).toMatch(/not active/);
    }
    const res = await raw(t, accountPath(account.sid), { as: account });
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
  }

  it('a new subaccount’s credentials work at once', async () => {
    const created = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'fresh' });
    const sub = clientFor(t, created).api.v2010.accounts;
    expect((await sub(created.sid).fetch()).friendlyName).toBe('fresh');
    expect(sids(await sub.list())).toEqual([created.sid]);
  });

  it('a suspended subaccount’s credentials → 401 20003 "not active"; reactivated, they work again', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'to suspend' });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    await expectInactive(sub);
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'active' });
    expect((await clientFor(t, sub).api.v2010.accounts(sub.sid).fetch()).status).toBe('active');
  });

  it('a closed subaccount’s credentials → 401 20003 "not active"', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'to close' });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'closed' });
    await expectInactive(sub);
  });

  it('a suspended main account’s credentials → 401 20003 "not active"', async () => {
    const other = await t.createMain('Suspended main', 'Full');
    const commands = t.app.get(CommandBus);
    await commands.execute(new MainAccountOperationCommand(other.sid, 'suspend', OPERATOR));
    await expectInactive(other);
    await commands.execute(new MainAccountOperationCommand(other.sid, 'reactivate', OPERATOR));
    expect((await clientFor(t, other).api.v2010.accounts(other.sid).fetch()).status).toBe('active');
  });

  it('a wrong password stays 20003 without "not active", even for an inactive account', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'closed, wrong token' });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'closed' });
    const error = await restError(clientFor(t, { sid: sub.sid, authToken: main.authToken }).api.v2010.accounts(sub.sid).fetch());
    expect(error).toMatchObject({ status: 401, code: 20003 });
    expect(error.message).not.toMatch(/not active/);
  });

  it('a subaccount renames itself, but changing its own status → 403 20006', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'self' });
    const self = clientFor(t, sub).api.v2010.accounts(sub.sid);
    expect((await self.update({ friendlyName: 'self renamed' })).friendlyName).toBe('self renamed');
    const before = await eventCount(t);
    expect(await restError(self.update({ status: 'closed' }))).toMatchObject({ status: 403, code: 20006 });
    // With a rename in the same request: nothing of it is applied.
    expect(await restError(self.update({ friendlyName: 'sneaky', status: 'suspended' }))).toMatchObject({ status: 403, code: 20006 });
    expect(await eventCount(t)).toBe(before);
    expect(await self.fetch()).toMatchObject({ friendlyName: 'self renamed', status: 'active' });
  });

  it('a main account changing its own status → 400 21477; its owner changes a subaccount’s', async () => {
    const before = await eventCount(t);
    expect(await restError(clientFor(t, main).api.v2010.accounts(main.sid).update({ status: 'suspended' }))).toMatchObject({ status: 400, code: 21477 });
    expect(await eventCount(t)).toBe(before);
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'owned' });
    expect((await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'suspended' })).status).toBe('suspended');
  });

  it('closed is terminal: every later change → 400 21479, and the account stays listed', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'terminal' });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'closed' });
    const before = await eventCount(t);
    for (const change of [{ status: 'active' }, { status: 'suspended' }, { status: 'closed' }, { friendlyName: 'revived' }] as const) {
      expect(await restError(clientFor(t, main).api.v2010.accounts(sub.sid).update(change))).toMatchObject({ status: 400, code: 21479 });
    }
    expect(await eventCount(t)).toBe(before);
    expect(sids(await clientFor(t, main).api.v2010.accounts.list({ status: 'closed' }))).toContain(sub.sid);
  });

  it('no credentials, or credentials that are not Basic → 401 20003 with the challenge', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: 'Bearer abc' }, { authorization: 'Basic !!!' }, { authorization: `Basic ${Buffer.from(main.sid).toString('base64')}` }]) {
      const res = await raw(t, LIST_PATH, { headers });
      expect([res.status, res.json.code, res.headers.get('www-authenticate')]).toEqual([401, 20003, 'Basic realm="Twilio API"']);
    }
  });
});
