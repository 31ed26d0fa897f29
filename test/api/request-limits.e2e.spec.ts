import { connect } from 'node:net';
import type { AccountRecord } from '@accountable/accounts';
import { newAuthToken } from '@accountable/secrets';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, eventCount, LIST_PATH, raw, type RawRequest } from './accounts-api.helpers';

const JSON_TYPE = 'application/json';
/** The body: one name 20,000 times (parsed in O(N²) before credentials were checked, 9–17 s). */
const REPEATS = Array(20_000).fill('a').join('&');
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/**
 * Limits before work: credentials are checked before a body is read, so a request without good
 * credentials is 401 whatever its body (unparsable, over the size limit, a parameter bomb, not
 * even sent); an authenticated body or query string over the parameter limit, or JSON nested
 * too deep, is 400 20002 — never a 500 — and changes nothing.
 */
describe('limits before work: credentials first, then bounded parameters', () => {
  let t: TestApp;
  let main: AccountRecord;
  let wrong: { sid: string; authToken: string };

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    wrong = { sid: main.sid, authToken: newAuthToken() };
  });
  afterAll(() => t.close());

  async function answered(path: string, request: RawRequest, status: number, code: number) {
    const before = await eventCount(t);
    const res = await raw(t, path, request);
    const label = `${request.as === wrong ? 'wrong token' : request.as ? 'main' : 'no credentials'} ${request.method ?? 'POST'} ${path} ${String(request.body ?? '').slice(0, 40)}`;
    expect([label, res.status, res.json?.code]).toEqual([label, status, code]);
    expect(await eventCount(t)).toBe(before);
    return res;
  }

  describe('without good credentials the body is never read: 401 20003', () => {
    it.each([
      ['invalid UTF-8 in a form', 'FriendlyName=%FF', undefined],
      ['malformed JSON', '{"FriendlyName":', JSON_TYPE],
      ['JSON 100,000 levels deep', deepObject(100_000), JSON_TYPE],
      ['a body over the size limit', `FriendlyName=${'a'.repeat(1024 * 1024 + 1)}`, undefined],
      ['the 20,000-repeat form body', REPEATS, undefined],
      ['JSON with 5,000 parameters', JSON.stringify(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, 'x']))), JSON_TYPE],
    ])('%s', async (_, body, contentType) => {
      for (const as of [undefined, wrong]) {
        for (const path of [LIST_PATH, accountPath(main.sid)]) {
          const res = await answered(path, { as, body, contentType }, 401, 20003);
          expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
        }
      }
    });

    it('a request that announces a 1 MiB body and sends none is answered at once', async () => {
      const auth = Buffer.from(`${wrong.sid}:${wrong.authToken}`).toString('base64');
      const port = Number(new URL(t.baseUrl).port);
      const head = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        let text = '';
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`no answer while the body was outstanding; got ${JSON.stringify(text)}`));
        }, 10_000);
        socket.on('data', (d) => {
          text += d.toString('latin1');
          if (text.includes('\r\n\r\n')) {
            clearTimeout(timer);
            socket.destroy();
            resolve(text);
          }
        });
        socket.on('error', reject);
        socket.write(
          `POST ${LIST_PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${1024 * 1024}\r\n\r\n`,
        );
      });
      expect(head).toMatch(/^HTTP\/1\.1 401 /);
    });
  });

  describe('with good credentials', () => {
    it('the 20,000-repeat form body, and 101 distinct parameters: 400 20002', async () => {
      const res = await answered(LIST_PATH, { as: main, body: REPEATS }, 400, 20002);
      expect(res.json.message).toMatch(/Too many parameters/);
      const many = Array.from({ length: 101 }, (_, i) => `p${i}=x`).join('&');
      await answered(accountPath(main.sid), { as: main, body: many }, 400, 20002);
    });

    it('100 parameters are within the limit (unknown ones ignored, as Twilio does)', async () => {
      const body = [...Array.from({ length: 99 }, (_, i) => `p${i}=x`), 'FriendlyName=hundred'].join('&');
      const res = await raw(t, LIST_PATH, { as: main, body });
      expect([res.status, res.json.friendly_name]).toEqual([201, 'hundred']);
    });

    it('JSON 100,000 levels deep, objects or arrays, and just past the depth limit: 400 20002, not a 500', async () => {
      for (const body of [deepObject(100_000), deepArray(100_000), `{"FriendlyName":"x","a":${deepArray(32)}}`]) {
        const res = await answered(LIST_PATH, { as: main, body, contentType: JSON_TYPE }, 400, 20002);
        expect(res.json.message).toMatch(/nested deeper than 32/);
      }
    });

    it('JSON with more top-level parameters than the limit: 400 20002', async () => {
      const body = JSON.stringify(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, 'x'])));
      await answered(accountPath(main.sid), { as: main, body, contentType: JSON_TYPE }, 400, 20002);
    });

    it('a query string over the parameter limit: 400 20002; at the limit it is served', async () => {
      const query = (n: number) => Array.from({ length: n }, (_, i) => `p${i % 7}=${i}`).join('&');
      const over = await answered(`${LIST_PATH}?${query(101)}`, { as: main, method: 'GET' }, 400, 20002);
      expect(over.json.message).toMatch(/query string/);
      expect((await raw(t, `${LIST_PATH}?${query(100)}`, { as: main })).status).toBe(200);
      expect((await raw(t, `/v1/Events?${query(101)}`, { as: main })).status).toBe(400);
    });

    it('the size limit holds: 413 20002', async () => {
      await answered(LIST_PATH, { as: main, body: `FriendlyName=${'a'.repeat(1024 * 1024)}` }, 413, 20002);
    });
  });

  it('every answer says no-store and nosniff: the ones carrying a token, errors, health, and the parser’s own refusals', async () => {
    const answers = [
      await raw(t, accountPath(main.sid), { as: main }),
      await raw(t, LIST_PATH, { as: main, body: { FriendlyName: 'headers' } }),
      await raw(t, LIST_PATH, { as: wrong }),
      await raw(t, LIST_PATH, { as: main, body: 'FriendlyName=%FF' }),
      await raw(t, '/2010-04-01/Nothing.json', { as: main }),
      await raw(t, '/health/live'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 201, 401, 400, 404, 200]);
    for (const a of answers) {
      // Terminus' health answers say more (`no-cache, no-store, must-revalidate`); no-store is what counts.
      expect([a.status, a.headers.get('cache-control'), a.headers.get('x-content-type-options')]).toEqual([a.status, expect.stringMatching(/\bno-store\b/), 'nosniff']);
    }
    const port = Number(new URL(t.baseUrl).port);
    const refusedByParser = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nBad Header\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => (text += d.toString('latin1')));
      socket.on('close', () => resolve(text));
    });
    expect(refusedByParser).toMatch(/^HTTP\/1\.1 400 [\s\S]*Cache-Control: no-store\r\nX-Content-Type-Options: nosniff/);
  });
});
