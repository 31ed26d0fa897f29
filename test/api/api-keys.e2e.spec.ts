import twilio from 'twilio';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AccountRecord } from '@accountable/accounts';
import { openRuntime, type Runtime } from '@accountable/platform';
import { createApiApp } from '../../apps/api/src/app.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { child, csvRecords, parseXml, textsOf } from '../support/wire-formats';
import { clientFor, raw, restError, settle, streamEvents } from './accounts-api.helpers';

const KEY_FIELDS = ['date_created', 'date_updated', 'friendly_name', 'sid'];
const SK = /^SK[0-9a-f]{32}$/;
const keysPath = (account: string) => `/2010-04-01/Accounts/${account}/Keys.json`;
const keyPath = (account: string, key: string) => `/2010-04-01/Accounts/${account}/Keys/${key}.json`;
const keyAuth = (sid: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${sid}:${secret}`).toString('base64')}` });

/** twilio-node with an API key, as its docs say: the key's account in `accountSid`. */
function keyClient(t: TestApp, key: { sid: string; secret: string }, accountSid: string): twilio.Twilio {
  const client = twilio(key.sid, key.secret, { accountSid });
  client.api.baseUrl = t.baseUrl;
  client.monitor.baseUrl = t.baseUrl;
  return client;
}

describe('API keys (v2010 Keys) through twilio-node and on the wire', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: { sid: string; authToken: string };

  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT: '3', RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '1000' } });
    main = await t.createMain('Main', 'Full');
    const created = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'Sub' });
    sub = { sid: created.sid, authToken: created.authToken };
  });
  afterAll(() => t.close());

  it('create (newKeys), list, fetch, update, remove with twilio-node; the secret only at creation', async () => {
    const client = clientFor(t, main);
    // twilio-node 6 creates keys through `newKeys` (the spec's mountName new_keys): `keys` has no create.
    expect((client.api.v2010.accounts(main.sid).keys as unknown as { create?: unknown }).create).toBeUndefined();
    const created = await client.api.v2010.accounts(main.sid).newKeys.create({ friendlyName: 'deploy' });
    expect(created.sid).toMatch(SK);
    expect(created.friendlyName).toBe('deploy');
    expect(created.secret).toMatch(/^[0-9A-Za-z]{32}$/);
    const unnamed = await client.api.v2010.accounts(main.sid).newKeys.create();
    expect(unnamed.sid).toMatch(SK);
    expect(unnamed.friendlyName).toBeNull();
    expect(unnamed.secret).toMatch(/^[0-9A-Za-z]{32}$/);

    const listed = await client.api.v2010.accounts(main.sid).keys.list();
    expect(listed.map((k) => k.sid).sort()).toEqual([created.sid, unnamed.sid].sort());
    const fetched = await client.api.v2010.accounts(main.sid).keys(created.sid).fetch();
    expect(fetched.friendlyName).toBe('deploy');
    expect((fetched as unknown as Record<string, unknown>).secret).toBeUndefined();

    const renamed = await client.api.v2010.accounts(main.sid).keys(created.sid).update({ friendlyName: 'deploy-2' });
    expect(renamed.friendlyName).toBe('deploy-2');
    expect(await client.api.v2010.accounts(main.sid).keys(created.sid).remove()).toBe(true);
    expect(await restError(client.api.v2010.accounts(main.sid).keys(created.sid).fetch())).toMatchObject({ status: 404, code: 20404 });
    expect((await client.api.v2010.accounts(main.sid).keys.list()).map((k) => k.sid)).toEqual([unnamed.sid]);
    await client.api.v2010.accounts(main.sid).keys(unnamed.sid).remove();
  });

  it('on the wire: exactly the documented fields; 201 adds the secret; 204 on delete; SigningKeys is the same resource', async () => {
    const created = await raw(t, keysPath(main.sid), { as: main, body: { FriendlyName: 'wire' } });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual([...KEY_FIELDS, 'secret'].sort());
    const fetched = await raw(t, keyPath(main.sid, created.json.sid), { as: main });
    expect(fetched.status).toBe(200);
    expect(Object.keys(fetched.json).sort()).toEqual(KEY_FIELDS);
    expect(fetched.text).not.toContain(created.json.secret);
    const list = await raw(t, `${keysPath(main.sid)}?PageSize=1`, { as: main });
    expect(list.json).toMatchObject({ page: 0, page_size: 1, start: 0, end: 0, previous_page_uri: null, next_page_uri: null });
    expect(list.json.keys.map((k: { sid: string }) => k.sid)).toEqual([created.json.sid]);
    const signing = await raw(t, `/2010-04-01/Accounts/${main.sid}/SigningKeys.json`, { as: main });
    expect(signing.json.signing_keys.map((k: { sid: string }) => k.sid)).toEqual([created.json.sid]);
    const deleted = await raw(t, keyPath(main.sid, created.json.sid), { as: main, method: 'DELETE' });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await raw(t, keyPath(main.sid, created.json.sid), { as: main, method: 'DELETE' })).json).toMatchObject({ status: 404, code: 20404 });
  });

  it('errors: 65 characters 70001 (64 pass), a non-SK sid 70002, an unknown key 20404, another tenant 20404, PUT 405', async () => {
    expect((await raw(t, keysPath(main.sid), { as: main, body: { FriendlyName: 'x'.repeat(65) } })).json).toMatchObject({ status: 400, code: 70001 });
    const ok = await raw(t, keysPath(main.sid), { as: main, body: { FriendlyName: 'x'.repeat(64) } });
    expect(ok.status).toBe(201);
    expect((await raw(t, keyPath(main.sid, 'AC' + '0'.repeat(32)), { as: main })).json).toMatchObject({ status: 400, code: 70002 });
    expect((await raw(t, keyPath(main.sid, 'SK' + '0'.repeat(32)), { as: main })).json).toMatchObject({ status: 404, code: 20404 });
    expect((await raw(t, keyPath(main.sid, 'SK' + '0'.repeat(32)), { as: main, body: { FriendlyName: 'a' } })).json).toMatchObject({ status: 404, code: 20404 });
    const other = await t.createMain('Other');
    expect((await raw(t, keysPath(main.sid), { as: other })).json).toMatchObject({ status: 404, code: 20404 });
    expect((await raw(t, keyPath(main.sid, ok.json.sid), { as: other })).json).toMatchObject({ status: 404, code: 20404 });
    expect((await raw(t, keyPath(main.sid, ok.json.sid), { as: other, method: 'DELETE' })).json).toMatchObject({ status: 404, code: 20404 });
    // A subaccount does not reach its owner's keys; the owner reaches its subaccount's.
    expect((await raw(t, keysPath(main.sid), { as: sub })).json).toMatchObject({ status: 404, code: 20404 });
    expect((await raw(t, keysPath(sub.sid), { as: main })).status).toBe(200);
    expect((await raw(t, keysPath(main.sid), { as: main, method: 'PUT' })).json).toMatchObject({ status: 405, code: 20004 });
    await raw(t, keyPath(main.sid, ok.json.sid), { as: main, method: 'DELETE' });
  });

  it('a cap on live keys: the 101st is 400 70151; a deletion frees a place', async () => {
    const owner = await t.createMain('Capped');
    const sids: string[] = [];
    for (let i = 0; i < 100; i++) sids.push((await raw(t, keysPath(owner.sid), { as: owner, body: {} })).json.sid);
    expect(new Set(sids).size).toBe(100);
    expect((await raw(t, keysPath(owner.sid), { as: owner, body: {} })).json).toMatchObject({ status: 400, code: 70151 });
    await raw(t, keyPath(owner.sid, sids[0]), { as: owner, method: 'DELETE' });
    expect((await raw(t, keysPath(owner.sid), { as: owner, body: {} })).status).toBe(201);
    const pages = await raw(t, `${keysPath(owner.sid)}?PageSize=60&Page=1`, { as: owner });
    expect(pages.json.keys).toHaveLength(40);
    expect(pages.json.next_page_uri).toBeNull();
  });

  it('a key authenticates as its account on /v1/Events, and is refused (401 20003) on Accounts and Keys', async () => {
    const key = (await raw(t, keysPath(sub.sid), { as: main, body: { FriendlyName: 'sub key' } })).json;
    const client = keyClient(t, key, sub.sid);
    const events = await client.monitor.v1.events.list({ limit: 20 });
    expect(events.length).toBeGreaterThan(0);
    // The subaccount's view: only itself.
    expect(new Set(events.map((e) => e.resourceSid))).toEqual(new Set([sub.sid]));
    expect(await restError(client.api.v2010.accounts(sub.sid).fetch())).toMatchObject({ status: 401, code: 20003 });
    expect(await restError(client.api.v2010.accounts.list())).toMatchObject({ status: 401, code: 20003 });
    expect(await restError(client.api.v2010.accounts(sub.sid).keys.list())).toMatchObject({ status: 401, code: 20003 });
    expect(await restError(client.api.v2010.accounts(sub.sid).newKeys.create())).toMatchObject({ status: 401, code: 20003 });
    const refused = await raw(t, keysPath(sub.sid), { headers: keyAuth(key.sid, key.secret), body: {} });
    expect(refused.json).toMatchObject({ status: 401, code: 20003, message: 'Authenticate' });
    // Wrong secret, unknown key: the same 401.
    expect((await raw(t, '/v1/Events', { headers: keyAuth(key.sid, key.secret.slice(1) + 'x') })).json).toMatchObject({ status: 401, code: 20003 });
    expect((await raw(t, '/v1/Events', { headers: keyAuth('SK' + '0'.repeat(32), key.secret) })).json).toMatchObject({ status: 401, code: 20003 });
    // Deleted: refused from the next request on.
    await raw(t, keyPath(sub.sid, key.sid), { as: main, method: 'DELETE' });
    expect(await restError(client.monitor.v1.events.list({ limit: 1 }))).toMatchObject({ status: 401, code: 20003 });
  });

  it('a key of a suspended account is refused; reactivated, it works again', async () => {
    const key = (await raw(t, keysPath(sub.sid), { as: main, body: {} })).json;
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    expect((await raw(t, '/v1/Events', { headers: keyAuth(key.sid, key.secret) })).json).toMatchObject({ status: 401, code: 20003 });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'active' });
    expect((await raw(t, '/v1/Events', { headers: keyAuth(key.sid, key.secret) })).status).toBe(200);
  });

  it('failed key authentications count toward the limits: over them, even the right secret waits (429 20429)', async () => {
    const key = (await raw(t, keysPath(main.sid), { as: main, body: {} })).json;
    for (let i = 0; i < 3; i++) {
      expect((await raw(t, '/v1/Events', { headers: keyAuth(key.sid, 'wrong' + i) })).status).toBe(401);
    }
    const limited = await raw(t, '/v1/Events', { headers: keyAuth(key.sid, key.secret) });
    expect(limited.json).toMatchObject({ status: 429, code: 20429 });
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('a deleted key is refused at once by another API process on the same database', async () => {
    const key = (await raw(t, keysPath(main.sid), { as: main, body: {} })).json;
    let other: { app: NestFastifyApplication; runtime: Runtime } | undefined;
    try {
      const runtime = await openRuntime(t.runtime.config);
      const app = await createApiApp(runtime, { role: 'api', openApi: false, console: false, logger: false });
      other = { app, runtime };
      await app.listen({ port: 0, host: '127.0.0.1' });
      const url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}/v1/Events`;
      expect((await fetch(url, { headers: keyAuth(key.sid, key.secret) })).status).toBe(200);
      expect((await raw(t, keyPath(main.sid, key.sid), { as: main, method: 'DELETE' })).status).toBe(204);
      expect((await fetch(url, { headers: keyAuth(key.sid, key.secret) })).status).toBe(401);
    } finally {
      await other?.app.close();
      await other?.runtime.close();
    }
  });

  it('each change is an event on the account stream with no secret, audited as account-api-keys.*', async () => {
    const owner = await t.createMain('Audited');
    const created = (await raw(t, keysPath(owner.sid), { as: owner, body: { FriendlyName: 'a' } })).json;
    await raw(t, keyPath(owner.sid, created.sid), { as: owner, body: { FriendlyName: 'b' } });
    await raw(t, keyPath(owner.sid, created.sid), { as: owner, method: 'DELETE' });
    const events = await streamEvents(t, owner.sid);
    expect(events.map((e) => e.type)).toEqual(['MainAccountCreated', 'ApiKeyCreated', 'ApiKeyRenamed', 'ApiKeyDeleted']);
    expect(JSON.stringify(events)).not.toContain(created.secret);
    expect(events[1].data).toEqual({ keySid: created.sid, friendlyName: 'a', secretVerifier: expect.stringMatching(/^v1\./) });
    expect(events[1].metadata).toMatchObject({ actorType: 'account', actorSid: owner.sid, source: 'api' });
    const { rows } = await t.database.pool.query('SELECT * FROM api_keys WHERE account_sid = $1', [owner.sid]);
    expect(rows).toEqual([]);
    await settle(t);
    const monitor = clientFor(t, owner);
    monitor.monitor.baseUrl = t.baseUrl;
    const audit = await monitor.monitor.v1.events.list({ resourceSid: owner.sid });
    const types = audit.map((e) => e.eventType);
    expect(types).toEqual(['account-api-keys.deleted', 'account-api-keys.updated', 'account-api-keys.created', 'account.created']);
    expect(audit[2]).toMatchObject({ actorSid: owner.sid, actorType: 'account', source: 'api', resourceSid: owner.sid, sourceIpAddress: '127.0.0.1' });
    expect(audit[2].eventData).toEqual({ api_key_sid: { previous: null, updated: created.sid }, friendly_name: { previous: null, updated: 'a' } });
    expect(JSON.stringify(audit)).not.toContain(created.secret);
    expect(JSON.stringify(audit)).not.toContain(events[1].data.secretVerifier);
  });

  it('XML and CSV as for Accounts: by the URL suffix (none or .xml: XML), errors in the same format', async () => {
    const owner = await t.createMain('Formats');
    const created = await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys.xml`, { as: owner, body: { FriendlyName: '=1+1 <b>' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/xml/);
    const key = textsOf(child(parseXml(created.text).root, 'Key'));
    expect(Object.keys(key)).toEqual(['Sid', 'FriendlyName', 'DateCreated', 'DateUpdated', 'Secret']);
    expect(key.FriendlyName).toBe('=1+1 <b>');
    expect(key.Secret).toMatch(/^[0-9A-Za-z]{32}$/);
    const bare = await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys/${key.Sid}`, { as: owner });
    expect(textsOf(child(parseXml(bare.text).root, 'Key'))).toEqual({ Sid: key.Sid, FriendlyName: '=1+1 <b>', DateCreated: key.DateCreated, DateUpdated: key.DateUpdated });
    const list = parseXml((await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys`, { as: owner })).text).root;
    const keys = child(list, 'Keys');
    expect(keys.attributes).toMatchObject({ page: '0', pagesize: '50', uri: `/2010-04-01/Accounts/${owner.sid}/Keys?PageSize=50&Page=0`, nextpageuri: '' });
    expect(keys.children.map((k) => textsOf(k).Sid)).toEqual([key.Sid]);
    const csv = await raw(t, `/2010-04-01/Accounts/${owner.sid}/SigningKeys.csv`, { as: owner });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csvRecords(csv.text)).toEqual([{ Sid: key.Sid, FriendlyName: '=1+1 <b>', DateCreated: key.DateCreated, DateUpdated: key.DateUpdated }]);
    expect(csv.text).toContain("'=1+1"); // the formula guard
    const renamed = await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys/${key.Sid}.csv`, { as: owner, body: { FriendlyName: 'plain' } });
    expect(csvRecords(renamed.text)[0].FriendlyName).toBe('plain');
    const error = await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys/AC${'0'.repeat(32)}.xml`, { as: owner });
    expect(error.status).toBe(400);
    expect(textsOf(child(parseXml(error.text).root, 'RestException'))).toMatchObject({ Code: '70002', Status: '400' });
    expect((await raw(t, `/2010-04-01/Accounts/${owner.sid}/Keys/${key.Sid}.xml`, { as: owner, method: 'DELETE' })).status).toBe(204);
  });
});
