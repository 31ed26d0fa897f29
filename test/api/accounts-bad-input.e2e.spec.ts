import { connect } from 'node:net';
import type { AccountRecord } from '@accountable/accounts';
import { parseXml, textsOf } from '../support/wire-formats';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, eventCount, LIST_PATH, raw, type RawRequest } from './accounts-api.helpers';

const JSON_TYPE = 'application/json';
const ERROR_KEYS = ['code', 'message', 'more_info', 'status'];

/**
 * Hostile and malformed requests: each must be refused with a Twilio error envelope (never a
 * 5xx) and must leave the event log exactly as it was.
 */
describe('Accounts API: bad input changes nothing and is never a 5xx', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: { sid: string; authToken: string };

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'Target' });
  });
  afterAll(() => t.close());

  async function refused(path: string, request: RawRequest, status: number, code: number) {
    const before = await eventCount(t);
    const res = await raw(t, path, { as: main, ...request });
    const label = `${request.method ?? 'POST'} ${path.slice(0, 80)} ${String(request.body ?? '').slice(0, 60)}`;
    expect([label, res.status, res.json?.code]).toEqual([label, status, code]);
    expect(Object.keys(res.json).sort()).toEqual(ERROR_KEYS);
    expect(await eventCount(t)).toBe(before);
    return res;
  }

  /** The same body against create and against update of the subaccount. */
  async function refusedOnWrites(request: RawRequest, status: number, code: number) {
    await refused(LIST_PATH, request, status, code);
    await refused(accountPath(sub.sid), request, status, code);
  }

  afterEach(async () => {
    // Whatever a case tried, the target is as it was.
    expect(await clientFor(t, main).api.v2010.accounts(sub.sid).fetch()).toMatchObject({ friendlyName: 'Target', status: 'active' });
  });

  it('malformed JSON', async () => {
    for (const body of ['{"FriendlyName":', '{FriendlyName: "x"}', "{'FriendlyName':'x'}", '{"FriendlyName":"x"}}', '']) {
      await refusedOnWrites({ body, contentType: JSON_TYPE }, 400, 20002);
    }
  });

  it('JSON that is not an object: array, string, number, boolean, null', async () => {
    for (const body of ['[{"FriendlyName":"x"}]', '[]', '"FriendlyName=x"', '42', 'true', 'null']) {
      await refusedOnWrites({ body, contentType: JSON_TYPE }, 400, 20002);
    }
  });

  it('JSON null for FriendlyName is not a name: 400, not a 500', async () => {
    await refusedOnWrites({ body: '{"FriendlyName":null}', contentType: JSON_TYPE }, 400, 20002);
    await refused(accountPath(sub.sid), { body: '{"FriendlyName":null,"Status":"active"}', contentType: JSON_TYPE }, 400, 20002);
    await refused(accountPath(sub.sid), { body: '{"Status":null}', contentType: JSON_TYPE }, 400, 21475);
  });

  it('a request the HTTP parser refuses, and an unknown path under /health: still the envelope', async () => {
    // A raw byte above 0x7F in the request line never reaches a route (fetch would escape it).
    const refusedByParser = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1', () =>
          socket.end(Buffer.concat([Buffer.from(`GET ${path}?FriendlyName=`), Buffer.from([0xe9]), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')])),
        );
        let text = '';
        socket.on('data', (d) => (text += d.toString('latin1')));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
    const answer = await refusedByParser('/2010-04-01/Accounts.json');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 20002,
      message: expect.any(String),
      more_info: 'https://www.twilio.com/docs/errors/20002',
      status: 400,
    });
    // In the format the path asks for, as every other error.
    const asXml = await refusedByParser('/2010-04-01/Accounts');
    expect(asXml).toMatch(/^HTTP\/1\.1 400 [^]*\r\nContent-Type: application\/xml; charset=utf-8\r\n/);
    const exception = parseXml(asXml.slice(asXml.indexOf('\r\n\r\n') + 4)).root.children[0];
    expect([exception.name, textsOf(exception).Code]).toEqual(['RestException', '20002']);
    for (const [method, path] of [['GET', '/health/'], ['GET', '/health/nothing'], ['PUT', '/health/ready']]) {
      const res = await raw(t, path, { method });
      expect([method, path, res.status, res.json?.code]).toEqual([method, path, 404, 20404]);
      expect(Object.keys(res.json).sort()).toEqual(ERROR_KEYS);
    }
  });

  it('JSON with prototype-poisoning keys', async () => {
    await refusedOnWrites({ body: '{"__proto__":{"FriendlyName":"x"}}', contentType: JSON_TYPE }, 400, 20002);
    await refusedOnWrites({ body: '{"constructor":{"prototype":{"x":1}}}', contentType: JSON_TYPE }, 400, 20002);
    // In a form they are just unknown parameters.
    const created = await raw(t, LIST_PATH, { as: main, body: '__proto__=x&constructor=y&FriendlyName=proto-safe' });
    expect([created.status, created.json.friendly_name]).toEqual([201, 'proto-safe']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('text/plain and other content types: 415', async () => {
    for (const contentType of ['text/plain', 'text/plain; charset=utf-8', 'application/xml', 'multipart/form-data; boundary=x', 'application/octet-stream']) {
      await refusedOnWrites({ body: 'FriendlyName=x', contentType }, 415, 20002);
    }
  });

  it('repeated parameters, in forms and as JSON arrays', async () => {
    await refusedOnWrites({ body: 'FriendlyName=a&FriendlyName=b' }, 400, 20002);
    await refusedOnWrites({ body: JSON.stringify({ FriendlyName: ['a', 'b'] }), contentType: JSON_TYPE }, 400, 20002);
    await refusedOnWrites({ body: JSON.stringify({ FriendlyName: { a: 1 } }), contentType: JSON_TYPE }, 400, 20002);
    // A repeated Status must not be read as its first (or last) value.
    for (const body of ['Status=suspended&Status=active', 'Status=active&Status=closed', 'Status=closed&Status=closed']) {
      await refused(accountPath(sub.sid), { body }, 400, 20002);
    }
    await refused(accountPath(sub.sid), { body: JSON.stringify({ Status: ['closed'] }), contentType: JSON_TYPE }, 400, 20002);
  });

  it('a FriendlyName of 65 code points → 20002; 64 emoji (128 UTF-16 units) are allowed and kept intact', async () => {
    for (const name of ['é'.repeat(65), '😀'.repeat(65), `${'a'.repeat(64)}😀`, ' '.repeat(65)]) {
      await refusedOnWrites({ body: { FriendlyName: name } }, 400, 20002);
      await refusedOnWrites({ body: JSON.stringify({ FriendlyName: name }), contentType: JSON_TYPE }, 400, 20002);
    }
    for (const name of ['😀'.repeat(64), '𠀀'.repeat(64), '👩‍👩‍👧'.repeat(12)]) {
      const created = await raw(t, LIST_PATH, { as: main, body: { FriendlyName: name } });
      expect([...name].length).toBeLessThanOrEqual(64);
      expect(created.status).toBe(201);
      expect(created.json.friendly_name).toBe(name);
      const fetched = await raw(t, accountPath(created.json.sid), { as: main });
      expect(fetched.json.friendly_name).toBe(name);
      const found = await clientFor(t, main).api.v2010.accounts.list({ friendlyName: name });
      expect(found.map((a) => a.sid)).toEqual([created.json.sid]);
    }
  });

  it('NUL and unpaired surrogates, which PostgreSQL text cannot hold', async () => {
    await refusedOnWrites({ body: 'FriendlyName=a%00b' }, 400, 20002);
    await refusedOnWrites({ body: JSON.stringify({ FriendlyName: 'a\u0000b' }), contentType: JSON_TYPE }, 400, 20002);
    await refusedOnWrites({ body: '{"FriendlyName":"a\\ud800b"}', contentType: JSON_TYPE }, 400, 20002);
    await refusedOnWrites({ body: '{"FriendlyName":"\\udc00"}', contentType: JSON_TYPE }, 400, 20002);
    await refused(accountPath(sub.sid), { body: 'Status=active%00' }, 400, 21475);
    await refused(`${LIST_PATH}?FriendlyName=a%00b`, { method: 'GET' }, 400, 20002);
  });

  it('invalid UTF-8, percent-encoded or raw, in form bodies (and raw in JSON)', async () => {
    for (const encoded of ['%FF%FE', '%E0%A4%A', '%E0%A4', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', 'a%', '%zz', '%%41']) {
      await refusedOnWrites({ body: `FriendlyName=${encoded}` }, 400, 20002);
    }
    await refusedOnWrites({ body: '%FF=x&FriendlyName=y' }, 400, 20002);
    const invalid = Buffer.from([0xff, 0xfe, 0xc3]);
    await refusedOnWrites({ body: Buffer.concat([Buffer.from('FriendlyName=a'), invalid]) }, 400, 20002);
    await refusedOnWrites({ body: Buffer.concat([Buffer.from('{"FriendlyName":"a'), invalid, Buffer.from('"}')]), contentType: JSON_TYPE }, 400, 20002);
    // Valid escapes still decode, `+` is a space, and unknown parameters are ignored.
    const created = await raw(t, LIST_PATH, { as: main, body: 'FriendlyName=caf%C3%A9+%F0%9F%98%80%2B&Unknown=%41' });
    expect([created.status, created.json.friendly_name]).toEqual([201, 'café 😀+']);
  });

  it('bodies over the limit (2 MB) → 413 in the error envelope', async () => {
    const big = 'a'.repeat(2 * 1024 * 1024);
    await refusedOnWrites({ body: `FriendlyName=${big}` }, 413, 20002);
    await refusedOnWrites({ body: JSON.stringify({ FriendlyName: big }), contentType: JSON_TYPE }, 413, 20002);
  });

  it('bad sids → 404 20404 on fetch and update', async () => {
    for (const sid of [`AC${'a'.repeat(31)}`, `AC${'A'.repeat(32)}`, sub.sid.toUpperCase(), 'ACxyz', `AC${'a'.repeat(5000)}`, `${sub.sid}x`, `${sub.sid} `]) {
      await refused(`/2010-04-01/Accounts/${encodeURIComponent(sid)}.json`, { method: 'GET' }, 404, 20404);
      await refused(`/2010-04-01/Accounts/${encodeURIComponent(sid)}.json`, { body: { FriendlyName: 'x', Status: 'closed' } }, 404, 20404);
    }
  });

  it('odd query strings', async () => {
    const cases: [string, number, number][] = [
      ['PageSize=abc', 400, 20002],
      ['PageSize=0', 400, 20002],
      ['PageSize=-1', 400, 20002],
      ['PageSize=2.5', 400, 20002],
      ['PageSize=1e3', 400, 20002],
      ['PageSize=1001', 400, 20007],
      ['PageSize=99999999999999999999999', 400, 20007],
      ['Page=-1', 400, 20002],
      ['Page=abc', 400, 20002],
      ['Page=99999999999999999999999', 400, 20002],
      ['Status=Active', 400, 21475],
      ['Status=', 400, 21475],
      ['PageToken=%00', 400, 21481],
      [`PageToken=PA${'x'.repeat(10_000)}`, 400, 21481],
    ];
    for (const [query, status, code] of cases) await refused(`${LIST_PATH}?${query}`, { method: 'GET' }, status, code);
    // Tolerated: empty values mean absent, a repeated query parameter counts by its first value
    // (request.parser.ts), unknown ones are ignored, and an undecodable escape matches nothing.
    const all = (await clientFor(t, main).api.v2010.accounts.list()).length;
    const active = (await clientFor(t, main).api.v2010.accounts.list({ status: 'active' })).length;
    for (const [query, count] of [['PageSize=&Page=', all], ['PageSize=1&PageSize=abc', 1], ['Status=active&Status=bogus', active], ['Foo=%00&Bar', all], ['FriendlyName=%FF', 0], ['&&=&', all]] as const) {
      const res = await raw(t, `${LIST_PATH}?${query}`, { as: main });
      expect([query, res.status, res.json.accounts.length]).toEqual([query, 200, count]);
    }
  });
});
