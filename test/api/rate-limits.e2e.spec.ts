import type { AccountRecord } from '@accountable/accounts';
import { newAuthToken } from '@accountable/secrets';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, eventCount, LIST_PATH, raw, type Credentials } from './accounts-api.helpers';

const WINDOW_S = 3600;

/**
 * The three limits of one process (RateLimits), with windows long enough that none resets during
 * the test. The test is the proxy (TRUST_PROXY=loopback), so X-Forwarded-For names the client.
 */
describe('rate limits: failed authentications per address and per account sid, requests per account', () => {
  let t: TestApp;
  let main: AccountRecord;
  let other: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp({
      env: {
        TRUST_PROXY: 'loopback',
        RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '3',
        RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT: '5',
        RATE_LIMIT_AUTH_FAILURES_WINDOW_S: String(WINDOW_S),
        RATE_LIMIT_REQUESTS_PER_ACCOUNT: '20',
        RATE_LIMIT_REQUESTS_WINDOW_S: String(WINDOW_S),
      },
    });
    main = await t.createMain('Main', 'Full');
    other = await t.createMain('Other', 'Full');
  });
  afterAll(() => t.close());

  const get = (as: Credentials | undefined, address: string, path = LIST_PATH) => raw(t, path, { as, headers: { 'x-forwarded-for': address } });
  const wrongFor = (account: Credentials): Credentials => ({ sid: account.sid, authToken: newAuthToken() });

  function expectTooMany(res: Awaited<ReturnType<typeof raw>>, windowS = WINDOW_S) {
    expect([res.status, res.json]).toEqual([429, { code: 20429, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 }]);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= windowS).toBe(true);
  }

  it('an address past its failures gets 429 20429 with Retry-After, for any credentials it has not seen succeed; others are not affected', async () => {
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'seen' });
    expect((await get(sub, '203.0.113.1')).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await get(wrongFor(main), '203.0.113.1')).status).toBe(401);
    expectTooMany(await get(wrongFor(main), '203.0.113.1'));
    expectTooMany(await get({ sid: `AC${'9'.repeat(32)}`, authToken: 'x' }, '203.0.113.1'));
    // Credentials this process has not seen succeed wait too: they cannot be told from a guess unchecked.
    expectTooMany(await get(other, '203.0.113.1'));
    // The ones that did succeed go on, checked as usual.
    expect((await get(sub, '203.0.113.1')).status).toBe(200);
    // Another address, another budget.
    expect((await get(wrongFor(main), '203.0.113.2')).status).toBe(401);
    expect((await get(other, '203.0.113.2')).status).toBe(200);
  });

  it('no credentials at all is the challenge, not a failure: never counted', async () => {
    for (let i = 0; i < 10; i++) expect((await get(undefined, '203.0.113.10')).status).toBe(401);
    expect((await get(wrongFor(main), '203.0.113.10')).status).toBe(401);
  });

  it('the right password of a suspended account is not a failed authentication', async () => {
    const suspended = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'suspended' });
    await clientFor(t, main).api.v2010.accounts(suspended.sid).update({ status: 'suspended' });
    for (let i = 0; i < 5; i++) {
      const res = await get(suspended, '203.0.113.20');
      expect([res.status, res.json.message]).toEqual([401, expect.stringMatching(/not active/)]);
    }
    // Neither the address nor the sid has used any failure.
    expect((await get(wrongFor(suspended), '203.0.113.20')).status).toBe(401);
  });

  it('an account sid past its failures, from many addresses: guesses get 429; its running clients go on; other sids do not notice', async () => {
    const victim = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'victim' });
    expect((await get(victim, '198.51.100.200')).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(wrongFor(victim), `198.51.100.${i}`)).status).toBe(401);
    expectTooMany(await get(wrongFor(victim), '198.51.100.50'));
    expect((await get(victim, '198.51.100.201')).status).toBe(200);
    expect((await get(wrongFor(other), '198.51.100.50')).status).toBe(401);
  });

  it('an account past its request rate gets 429 20429 with Retry-After and its request changes nothing; other accounts are served', async () => {
    const busy = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'busy' });
    // Its creation by its owner does not count against it: each account has its own budget.
    for (let i = 0; i < 19; i++) expect((await get(busy, '192.0.2.1', accountPath(busy.sid))).status).toBe(200);
    expect((await raw(t, accountPath(busy.sid), { as: busy, body: { FriendlyName: 'twentieth' } })).status).toBe(200);
    const before = await eventCount(t);
    expectTooMany(await raw(t, accountPath(busy.sid), { as: busy, body: { FriendlyName: 'refused' } }));
    expectTooMany(await get(busy, '192.0.2.2', accountPath(busy.sid)));
    expect(await eventCount(t)).toBe(before);
    expect((await get(main, '192.0.2.1', accountPath(busy.sid))).json.friendly_name).toBe('twentieth');
  });

  it('unauthenticated paths are not limited', async () => {
    for (let i = 0; i < 30; i++) expect((await raw(t, '/health/live')).status).toBe(200);
  });
});
