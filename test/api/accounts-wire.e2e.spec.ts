import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, LIST_PATH, raw, type RawResponse } from './accounts-api.helpers';

const ACCOUNT_KEYS = ['auth_token', 'date_created', 'date_updated', 'friendly_name', 'owner_account_sid', 'sid', 'status', 'subresource_uris', 'type', 'uri'];
const LIST_KEYS = ['accounts', 'end', 'first_page_uri', 'next_page_uri', 'page', 'page_size', 'previous_page_uri', 'start', 'uri'];
const ERROR_KEYS = ['code', 'message', 'more_info', 'status'];
const RFC_2822 = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/;
const REQUEST_ID = /^RQ[0-9a-f]{32}$/;
/** The spec example's subresources, name → path segment. */
const SUBRESOURCES: Record<string, string> = {
  available_phone_numbers: 'AvailablePhoneNumbers',
  calls: 'Calls',
  conferences: 'Conferences',
  incoming_phone_numbers: 'IncomingPhoneNumbers',
  notifications: 'Notifications',
  outgoing_caller_ids: 'OutgoingCallerIds',
  recordings: 'Recordings',
  transcriptions: 'Transcriptions',
  addresses: 'Addresses',
  signing_keys: 'SigningKeys',
  connect_apps: 'ConnectApps',
  sip: 'SIP',
  authorized_connect_apps: 'AuthorizedConnectApps',
  usage: 'Usage',
  keys: 'Keys',
  applications: 'Applications',
  short_codes: 'SMS/ShortCodes',
  queues: 'Queues',
  messages: 'Messages',
  balance: 'Balance',
};

function expectAccountJson(json: Record<string, any>, expected: { sid: string; owner: string }) {
  expect(Object.keys(json).sort()).toEqual(ACCOUNT_KEYS);
  expect(json.sid).toBe(expected.sid);
  expect(json.owner_account_sid).toBe(expected.owner);
  expect(json.uri).toBe(`/2010-04-01/Accounts/${expected.sid}.json`);
  expect(json.date_created).toMatch(RFC_2822);
  expect(json.date_updated).toMatch(RFC_2822);
  expect(Math.abs(Date.parse(json.date_created) - Date.now())).toBeLessThan(60_000);
  expect(['active', 'suspended', 'closed']).toContain(json.status);
  expect(['Trial', 'Full']).toContain(json.type);
  expect(Object.keys(json.subresource_uris)).toHaveLength(20);
  expect(json.subresource_uris).toEqual(
    Object.fromEntries(Object.entries(SUBRESOURCES).map(([name, path]) => [name, `/2010-04-01/Accounts/${expected.sid}/${path}.json`])),
  );
}

function expectErrorJson(res: RawResponse, status: number, code: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.json).sort()).toEqual(ERROR_KEYS);
  expect(res.json).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
  expect(typeof res.json.message).toBe('string');
  expect(res.json.message.length).toBeGreaterThan(0);
}

describe('Accounts API on the wire (raw HTTP)', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub: { sid: string; auth_token: string };

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    const res = await raw(t, LIST_PATH, { as: main, body: { FriendlyName: 'Wire' } });
    expect(res.status).toBe(201);
    sub = res.json;
  });
  afterAll(() => t.close());

  it('POST /Accounts.json → 201 with exactly the account keys', async () => {
    const res = await raw(t, LIST_PATH, { as: main, body: { FriendlyName: 'Created', Unknown: 'ignored' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expectAccountJson(res.json, { sid: res.json.sid, owner: main.sid });
    expect(res.json).toMatchObject({ friendly_name: 'Created', status: 'active', type: 'Full' });
    expect(res.json.auth_token).toMatch(/^[0-9a-f]{32}$/);
  });

  it('GET and POST /Accounts/{Sid}.json → 200 with exactly the account keys; a main account owns itself', async () => {
    const self = await raw(t, accountPath(main.sid), { as: main });
    expect(self.status).toBe(200);
    expectAccountJson(self.json, { sid: main.sid, owner: main.sid });
    const fetched = await raw(t, accountPath(sub.sid), { as: main });
    expectAccountJson(fetched.json, { sid: sub.sid, owner: main.sid });
    const updated = await raw(t, accountPath(sub.sid), { as: main, body: { FriendlyName: 'Wire 2' } });
    expect(updated.status).toBe(200);
    expectAccountJson(updated.json, { sid: sub.sid, owner: main.sid });
    expect(updated.json.friendly_name).toBe('Wire 2');
  });

  it('GET /Accounts.json → exactly the list envelope keys, host-relative URIs', async () => {
    const res = await raw(t, LIST_PATH, { as: main });
    expect(res.status).toBe(200);
    expect(Object.keys(res.json).sort()).toEqual(LIST_KEYS);
    expect(res.json).toMatchObject({ page: 0, page_size: 50, start: 0, next_page_uri: null, previous_page_uri: null });
    expect(res.json.uri).toBe('/2010-04-01/Accounts.json?PageSize=50&Page=0');
    expect(res.json.first_page_uri).toBe('/2010-04-01/Accounts.json?PageSize=50&Page=0');
    expect(res.json.end).toBe(res.json.accounts.length - 1);
    for (const account of res.json.accounts) expectAccountJson(account, { sid: account.sid, owner: main.sid });
    const empty = await raw(t, `${LIST_PATH}?FriendlyName=nobody`, { as: main });
    expect(Object.keys(empty.json).sort()).toEqual(LIST_KEYS);
    expect(empty.json).toMatchObject({ accounts: [], start: 0, end: 0 });
  });

  it('JSON bodies are accepted as well as form-encoded ones', async () => {
    const created = await raw(t, LIST_PATH, { as: main, body: JSON.stringify({ FriendlyName: 'From JSON' }), contentType: 'application/json' });
    expect(created.status).toBe(201);
    expectAccountJson(created.json, { sid: created.json.sid, owner: main.sid });
    const updated = await raw(t, accountPath(created.json.sid), {
      as: main,
      body: JSON.stringify({ FriendlyName: 'Still JSON', Status: 'suspended' }),
      contentType: 'application/json; charset=utf-8',
    });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ friendly_name: 'Still JSON', status: 'suspended' });
    const noBody = await raw(t, LIST_PATH, { method: 'POST', as: main });
    expect(noBody.status).toBe(201);
  });

  it('DELETE, PUT, PATCH and OPTIONS on either path → 405 20004 with Allow; without credentials 401 first', async () => {
    for (const method of ['DELETE', 'PUT', 'PATCH', 'OPTIONS']) {
      for (const path of [LIST_PATH, accountPath(main.sid), accountPath(sub.sid)]) {
        const res = await raw(t, path, { method, as: main });
        expectErrorJson(res, 405, 20004);
        expect(res.headers.get('allow')).toBe('GET, HEAD, POST');
        const anonymous = await raw(t, path, { method });
        expectErrorJson(anonymous, 401, 20003);
        expect(anonymous.headers.get('allow')).toBeNull();
      }
    }
  });

  it('HEAD, which Allow lists, answers as GET does without a body', async () => {
    for (const path of [LIST_PATH, accountPath(main.sid)]) {
      const res = await raw(t, path, { method: 'HEAD', as: main });
      expect([res.status, res.headers.get('content-type'), res.text]).toEqual([200, 'application/json; charset=utf-8', '']);
    }
  });

  it('no CORS: a preflight is refused like any request without credentials, and nothing grants another origin', async () => {
    const preflight = await raw(t, LIST_PATH, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expectErrorJson(preflight, 401, 20003);
    const fromPage = await raw(t, LIST_PATH, { as: main, headers: { origin: 'https://elsewhere.example' } });
    expect(fromPage.status).toBe(200);
    for (const res of [preflight, fromPage]) {
      expect([...res.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    }
  });

  it('401 carries WWW-Authenticate: Basic realm="Twilio API" and the error envelope', async () => {
    for (const path of [LIST_PATH, accountPath(main.sid)]) {
      const res = await raw(t, path);
      expectErrorJson(res, 401, 20003);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
    }
    const wrong = await raw(t, LIST_PATH, { as: { sid: main.sid, authToken: sub.auth_token }, body: {} });
    expectErrorJson(wrong, 401, 20003);
    expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="Twilio API"');
  });

  it('an unknown path → 404 20404 "The requested resource <path> was not found"', async () => {
    // JSON for `.json` paths and outside /2010-04-01; XML errors are accounts-representations' business.
    for (const path of ['/nope', `/2010-04-01/Accounts/${main.sid}/Calls.json`, '/2010-04-01/Accounts.html.json', '/v1/Nothing']) {
      const res = await raw(t, `${path}?x=1`, { as: main });
      expectErrorJson(res, 404, 20404);
      expect(res.json.message).toBe(`The requested resource ${path} was not found`);
    }
  });

  it('a malformed sid in the path → 404 20404, on fetch and on update', async () => {
    const bad = [`AC${'a'.repeat(31)}`, `AC${'A'.repeat(32)}`, 'ACxyz', `AC${'a'.repeat(33)}`, `ac${main.sid.slice(2)}`, main.sid.toUpperCase(), `AC${'a'.repeat(2000)}`, 'AC%20', '.json'];
    for (const sid of bad) {
      for (const body of [undefined, { FriendlyName: 'x' }]) {
        const res = await raw(t, `/2010-04-01/Accounts/${sid}.json`, { as: main, body });
        expectErrorJson(res, 404, 20404);
      }
    }
  });

  it('every response carries Twilio-Request-Id: RQ<32 hex>, a fresh one each time', async () => {
    const responses = [
      await raw(t, LIST_PATH, { as: main }),
      await raw(t, LIST_PATH, { as: main, body: { FriendlyName: 'rq' } }),
      await raw(t, accountPath(main.sid), { as: main }),
      await raw(t, LIST_PATH),
      await raw(t, LIST_PATH, { method: 'DELETE' }),
      await raw(t, '/nope'),
      await raw(t, `/2010-04-01/Accounts/AC${'a'.repeat(2000)}.json`, { as: main }),
      await raw(t, '/2010-04-01/Accounts/%E0%A4%A.json', { as: main }),
      await raw(t, LIST_PATH, { as: main, body: '{', contentType: 'application/json' }),
      await raw(t, LIST_PATH, { as: main, body: 'x', contentType: 'application/xml' }),
      await raw(t, `${LIST_PATH}?PageSize=5000`, { as: main }),
      await raw(t, LIST_PATH, { as: main, body: `FriendlyName=${'a'.repeat(2 * 1024 * 1024)}` }),
    ];
    const ids = responses.map((r) => r.headers.get('twilio-request-id'));
    for (const id of ids) expect(id).toMatch(REQUEST_ID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a malformed percent-escape in the path → 404 20404 envelope', async () => {
    for (const path of ['/2010-04-01/Accounts/%E0%A4%A.json', '/2010-04-01/Accounts/%ZZ.json', '/%']) {
      const res = await raw(t, path, { as: main });
      expectErrorJson(res, 404, 20404);
    }
  });
});
