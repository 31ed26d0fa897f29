import type { AccountRecord } from '@accountable/accounts';
import { send } from '../reliability/support/http';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, streamEvents, type Credentials } from './accounts-api.helpers';

/** Every absolute URL a Monitor Events answer holds. */
function urlsIn(body: any): string[] {
  const events: any[] = body.events ?? [body];
  return [
    ...(body.meta ? [body.meta.url, body.meta.first_page_url, body.meta.next_page_url, body.meta.previous_page_url] : []),
    ...events.flatMap((e) => [e.url, ...Object.values(e.links ?? {})]),
  ].filter((u): u is string => typeof u === 'string');
}

const HOSTILE_HOST = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'gopher' };

async function renameFrom(t: TestApp, as: Credentials, forwardedFor: string | undefined, name: string): Promise<string | null> {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
  const o = await send(t.baseUrl, accountPath(as.sid), { as, body: { FriendlyName: name }, headers });
  expect(o.kind === 'response' && o.status).toBe(200);
  const events = await streamEvents(t, as.sid);
  return events[events.length - 1].metadata.sourceIp;
}

describe('absolute URLs come from PUBLIC_URL, never from the request', () => {
  describe('default: the address this process listens on', () => {
    let t: TestApp;
    let main: AccountRecord;
    beforeAll(async () => {
      t = await startTestApp({ env: { TRUST_PROXY: 'true' } });
      main = await t.createMain('Main', 'Full');
      for (let i = 0; i < 3; i++) await clientFor(t, main).api.v2010.accounts.create({ friendlyName: `s${i}` });
      await t.drainProjections();
    });
    afterAll(() => t.close());

    it('a hostile Host, X-Forwarded-Host or X-Forwarded-Proto is not echoed into url, links or page URLs', async () => {
      const list = await send(t.baseUrl, '/v1/Events?PageSize=2', { as: main, headers: HOSTILE_HOST });
      const one = await send(t.baseUrl, '/v1/Events?PageSize=1', { as: main });
      if (list.kind !== 'response' || one.kind !== 'response') throw new Error('no answer');
      expect(list.status).toBe(200);
      const fetched = await send(t.baseUrl, `/v1/Events/${one.json.events[0].sid}`, { as: main, headers: HOSTILE_HOST });
      const urls = [...urlsIn(list.json), ...urlsIn((fetched as any).json)];
      expect(urls.length).toBeGreaterThan(6);
      for (const url of urls) expect(url.startsWith(`${t.baseUrl}/`)).toBe(true);
    });
  });

  describe('PUBLIC_URL set, behind one proxy (TRUST_PROXY=1)', () => {
    let t: TestApp;
    let main: AccountRecord;
    beforeAll(async () => {
      t = await startTestApp({ env: { PUBLIC_URL: 'https://api.example.com/accountable/', TRUST_PROXY: '1' } });
      main = await t.createMain('Main', 'Full');
      await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'one' });
      await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'two' });
      await t.drainProjections();
    });
    afterAll(() => t.close());

    it('builds every URL on PUBLIC_URL', async () => {
      const list = await send(t.baseUrl, '/v1/Events?PageSize=1', { as: main, headers: HOSTILE_HOST });
      const urls = urlsIn((list as any).json);
      expect(urls.length).toBeGreaterThan(4);
      for (const url of urls) expect(url.startsWith('https://api.example.com/accountable/')).toBe(true);
      expect((list as any).json.events[0].url).toMatch(/^https:\/\/api\.example\.com\/accountable\/v1\/Events\/AE[0-9a-f]{32}$/);
    });

    it('a hop count trusts that many proxies: the address before the last one is the client', async () => {
      expect(await renameFrom(t, main, '203.0.113.7, 198.51.100.2', 'hop')).toBe('198.51.100.2');
      expect(await renameFrom(t, main, undefined, 'direct')).toBe('127.0.0.1');
    });

    it('what a client writes into X-Forwarded-For is stored only if it is an IP address', async () => {
      expect(await renameFrom(t, main, 'not-an-address', 'garbage')).toBeNull();
      expect(await renameFrom(t, main, 'A'.repeat(3000), 'long')).toBeNull();
      expect(await renameFrom(t, main, '2001:db8::7', 'six')).toBe('2001:db8::7');
    });
  });

  describe('TRUST_PROXY as a list of proxies', () => {
    let t: TestApp;
    let main: AccountRecord;
    beforeAll(async () => {
      t = await startTestApp({ env: { TRUST_PROXY: '10.0.0.0/8, 192.0.2.1' } });
      main = await t.createMain('Main', 'Full');
    });
    afterAll(() => t.close());

    it('a peer not in the list is the client, whatever it forwards', async () => {
      expect(await renameFrom(t, main, '203.0.113.9', 'untrusted peer')).toBe('127.0.0.1');
    });
  });

  describe('TRUST_PROXY listing this peer', () => {
    let t: TestApp;
    let main: AccountRecord;
    beforeAll(async () => {
      t = await startTestApp({ env: { TRUST_PROXY: '10.0.0.0/8,127.0.0.1' } });
      main = await t.createMain('Main', 'Full');
    });
    afterAll(() => t.close());

    it('takes the first address from the right that is not a trusted proxy', async () => {
      expect(await renameFrom(t, main, '203.0.113.9, 10.1.2.3', 'via two')).toBe('203.0.113.9');
    });
  });
});
