import twilio from 'twilio';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AccountRecord } from '@accountable/accounts';
import { openRuntime, type Runtime } from '@accountable/platform';
import { createApiApp } from '../../apps/api/src/app.factory';
import { startTestApp, type TestApp } from '../support/test-app';
import { raw, restError, settle, streamEvents } from './accounts-api.helpers';

type Credentials = { sid: string; authToken: string };
const HEX32 = /^[0-9a-f]{32}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** twilio-node for every service we serve: v2010, Monitor, and accounts.twilio.com. */
function clientOf(t: TestApp, c: Credentials): twilio.Twilio {
  const client = twilio(c.sid, c.authToken);
  client.api.baseUrl = t.baseUrl;
  client.monitor.baseUrl = t.baseUrl;
  client.accounts.baseUrl = t.baseUrl;
  return client;
}

const basic = (sid: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${sid}:${password}`).toString('base64')}` });

/** A second API process on the test's database: its own verified-credentials cache. */
async function secondProcess(t: TestApp): Promise<{ url: string; close: () => Promise<void> }> {
  const runtime: Runtime = await openRuntime(t.runtime.config);
  const app: NestFastifyApplication = await createApiApp(runtime, { role: 'api', openApi: false, console: false, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`,
    close: async () => {
      await app.close();
      await runtime.close();
    },
  };
}

describe('secondary auth token and promotion (accounts.twilio.com v1 AuthTokens)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const status = async (c: Credentials, base = t.baseUrl) =>
    (await fetch(`${base}/2010-04-01/Accounts/${c.sid}.json`, { headers: basic(c.sid, c.authToken) })).status;

  it('the rotation recipe through twilio-node: create a secondary, both work, promote, the old one is refused', async () => {
    const main: AccountRecord = await t.createMain('Rotating');
    const old = { sid: main.sid, authToken: main.authToken };
    const client = clientOf(t, old);

    const secondary = await client.accounts.v1.secondaryAuthToken().create();
    expect(secondary.accountSid).toBe(main.sid);
    expect(secondary.secondaryAuthToken).toMatch(HEX32);
    expect(secondary.secondaryAuthToken).not.toBe(main.authToken);
    expect(secondary.url).toBe(`${t.baseUrl}/v1/AuthTokens/Secondary`);
    const next = { sid: main.sid, authToken: secondary.secondaryAuthToken };
    // Both authenticate, as many times as wanted (the second time from the verified cache).
    for (let i = 0; i < 2; i++) {
      expect(await status(old)).toBe(200);
      expect(await status(next)).toBe(200);
    }
    // The Account resource still shows the primary.
    expect((await clientOf(t, next).api.v2010.accounts(main.sid).fetch()).authToken).toBe(main.authToken);

    const promoted = await clientOf(t, next).accounts.v1.authTokenPromotion().update();
    expect(promoted.accountSid).toBe(main.sid);
    expect(promoted.authToken).toBe(next.authToken);
    expect(promoted.url).toBe(`${t.baseUrl}/v1/AuthTokens/Promote`);
    expect(await restError(client.api.v2010.accounts(main.sid).fetch())).toMatchObject({ status: 401, code: 20003 });
    const account = await clientOf(t, next).api.v2010.accounts(main.sid).fetch();
    expect(account.authToken).toBe(next.authToken);
    // The slot is empty: another promotion has nothing to promote.
    expect(await restError(clientOf(t, next).accounts.v1.authTokenPromotion().update())).toMatchObject({ status: 404, code: 20404 });
  });

  it('remove() deletes the secondary (204): it stops authenticating; DELETE without one is 404 20404', async () => {
    const main = await t.createMain('Removing');
    const client = clientOf(t, main);
    const secondary = await client.accounts.v1.secondaryAuthToken().create();
    const next = { sid: main.sid, authToken: secondary.secondaryAuthToken };
    expect(await status(next)).toBe(200);
    expect(await client.accounts.v1.secondaryAuthToken().remove()).toBe(true);
    expect(await status(next)).toBe(401);
    expect(await status(main)).toBe(200);
    expect(await restError(client.accounts.v1.secondaryAuthToken().remove())).toMatchObject({ status: 404, code: 20404 });
  });

  it('on the wire: 201 with exactly the spec fields; a second POST replaces the secondary; Promote 200; 405 for other verbs', async () => {
    const main = await t.createMain('Wire');
    const first = await raw(t, '/v1/AuthTokens/Secondary', { as: main, method: 'POST' });
    expect(first.status).toBe(201);
    expect(Object.keys(first.json).sort()).toEqual(['account_sid', 'date_created', 'date_updated', 'secondary_auth_token', 'url']);
    expect(first.json.date_created).toMatch(ISO);
    const second = await raw(t, '/v1/AuthTokens/Secondary', { as: main, method: 'POST' });
    expect(second.status).toBe(201);
    expect(second.json.secondary_auth_token).not.toBe(first.json.secondary_auth_token);
    expect(await status({ sid: main.sid, authToken: first.json.secondary_auth_token })).toBe(401);
    expect(await status({ sid: main.sid, authToken: second.json.secondary_auth_token })).toBe(200);
    const promote = await raw(t, '/v1/AuthTokens/Promote', { as: main, method: 'POST' });
    expect(promote.status).toBe(200);
    expect(Object.keys(promote.json).sort()).toEqual(['account_sid', 'auth_token', 'date_created', 'date_updated', 'url']);
    expect(promote.json.auth_token).toBe(second.json.secondary_auth_token);
    const now = { sid: main.sid, authToken: promote.json.auth_token };
    expect((await raw(t, '/v1/AuthTokens/Secondary', { as: now, method: 'GET' })).json).toMatchObject({ status: 405, code: 20004 });
    expect((await raw(t, '/v1/AuthTokens/Promote', { as: now, method: 'DELETE' })).json).toMatchObject({ status: 405, code: 20004 });
    // Credentials before 405: the old primary gets 401 whatever the verb.
    expect((await raw(t, '/v1/AuthTokens/Promote', { as: main, method: 'GET' })).json).toMatchObject({ status: 401, code: 20003 });
  });

  it('a subaccount rotates its own token; its owner’s tokens are untouched; an API key is refused (401 20003)', async () => {
    const main = await t.createMain('Owner');
    const created = await clientOf(t, main).api.v2010.accounts.create({ friendlyName: 'sub' });
    const sub = { sid: created.sid, authToken: created.authToken };
    const secondary = await clientOf(t, sub).accounts.v1.secondaryAuthToken().create();
    expect(secondary.accountSid).toBe(sub.sid);
    const promoted = await clientOf(t, sub).accounts.v1.authTokenPromotion().update();
    expect(await status(sub)).toBe(401);
    expect(await status({ sid: sub.sid, authToken: promoted.authToken })).toBe(200);
    expect(await status(main)).toBe(200);
    // The owner sees the subaccount's new token.
    expect((await clientOf(t, main).api.v2010.accounts(sub.sid).fetch()).authToken).toBe(promoted.authToken);

    const key = (await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main, body: {} })).json;
    const keyed = twilio(key.sid, key.secret, { accountSid: main.sid });
    keyed.accounts.baseUrl = t.baseUrl;
    expect(await restError(keyed.accounts.v1.secondaryAuthToken().create())).toMatchObject({ status: 401, code: 20003 });
    expect(await restError(keyed.accounts.v1.authTokenPromotion().update())).toMatchObject({ status: 401, code: 20003 });
  });

  it('each change is an event on the account stream, the token only sealed; audited as account-auth-token.*', async () => {
    const main = await t.createMain('Audited');
    const client = clientOf(t, main);
    const a = await client.accounts.v1.secondaryAuthToken().create();
    await client.accounts.v1.secondaryAuthToken().remove();
    const b = await client.accounts.v1.secondaryAuthToken().create();
    await client.accounts.v1.authTokenPromotion().update();
    const events = await streamEvents(t, main.sid);
    expect(events.map((e) => e.type)).toEqual([
      'MainAccountCreated',
      'SecondaryAuthTokenCreated',
      'SecondaryAuthTokenDeleted',
      'SecondaryAuthTokenCreated',
      'AuthTokenPromoted',
    ]);
    const stored = JSON.stringify(events);
    for (const token of [main.authToken, a.secondaryAuthToken, b.secondaryAuthToken]) expect(stored).not.toContain(token);
    expect(events[1].data.authToken).toMatch(/^v2\./);
    expect(events[4].metadata).toMatchObject({ actorType: 'account', actorSid: main.sid, source: 'api' });
    await settle(t);
    const monitor = clientOf(t, { sid: main.sid, authToken: b.secondaryAuthToken });
    const audit = await monitor.monitor.v1.events.list({ resourceSid: main.sid });
    expect(audit.map((e) => e.eventType)).toEqual([
      'account-auth-token.promoted',
      'account-auth-token.secondary-created',
      'account-auth-token.secondary-deleted',
      'account-auth-token.secondary-created',
      'account.created',
    ]);
    expect(audit[0]).toMatchObject({ actorSid: main.sid, resourceSid: main.sid, source: 'api', sourceIpAddress: '127.0.0.1', eventData: {} });
    const shown = JSON.stringify(audit);
    for (const token of [main.authToken, a.secondaryAuthToken, b.secondaryAuthToken]) expect(shown).not.toContain(token);
  });

  it('concurrent promotions: exactly one promotes, the others find no secondary (404 20404)', async () => {
    const main = await t.createMain('Concurrent');
    const secondary = (await raw(t, '/v1/AuthTokens/Secondary', { as: main, method: 'POST' })).json.secondary_auth_token;
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => raw(t, '/v1/AuthTokens/Promote', { as: { sid: main.sid, authToken: i % 2 ? secondary : main.authToken }, method: 'POST' })),
    );
    const promoted = answers.filter((a) => a.status === 200);
    expect(promoted).toHaveLength(1);
    expect(promoted[0].json.auth_token).toBe(secondary);
    // The losers: 404 if they authenticated before the winner committed, 401 if after (the old primary).
    for (const a of answers.filter((x) => x.status !== 200)) expect([[404, 20404], [401, 20003]]).toContainEqual([a.json.status, a.json.code]);
    expect((await streamEvents(t, main.sid)).filter((e) => e.type === 'AuthTokenPromoted')).toHaveLength(1);
  });

  it('a promotion racing requests with the old token, in two processes with warm caches: none sent after it committed authenticates', async () => {
    const main = await t.createMain('Race');
    const other = await secondProcess(t);
    try {
      const secondary = (await raw(t, '/v1/AuthTokens/Secondary', { as: main, method: 'POST' })).json.secondary_auth_token;
      // Warm both processes' verified-credentials caches with the old primary.
      for (const base of [t.baseUrl, other.url]) for (let i = 0; i < 3; i++) expect(await status(main, base)).toBe(200);
      let committed = false;
      let stop = false;
      const afterCommit: number[] = [];
      let beforeCommitOk = 0;
      const hammer = async (base: string) => {
        while (!stop) {
          const sentAfterCommit = committed;
          const code = await status(main, base);
          if (sentAfterCommit) afterCommit.push(code);
          else if (code === 200) beforeCommitOk++;
        }
      };
      const workers = [t.baseUrl, other.url, t.baseUrl, other.url].map(hammer);
      await new Promise((r) => setTimeout(r, 50));
      const promote = await raw(t, '/v1/AuthTokens/Promote', { as: { sid: main.sid, authToken: secondary }, method: 'POST' });
      committed = true;
      expect(promote.status).toBe(200);
      while (afterCommit.length < 40) await new Promise((r) => setTimeout(r, 5));
      stop = true;
      await Promise.all(workers);
      expect(beforeCommitOk).toBeGreaterThan(0);
      expect(new Set(afterCommit)).toEqual(new Set([401]));
      expect(await status({ sid: main.sid, authToken: secondary }, other.url)).toBe(200);
    } finally {
      await other.close();
    }
  });
});
