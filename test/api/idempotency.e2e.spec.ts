import http from 'node:http';
import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, basic, clientFor, eventCount, LIST_PATH, raw, streamEvents, type Credentials, type RawResponse } from './accounts-api.helpers';

const ERROR_KEYS = ['code', 'message', 'more_info', 'status'];

function expectError(res: RawResponse, status: number, code: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(res.json).sort()).toEqual(ERROR_KEYS);
  expect(res.json).toMatchObject({ status, code, more_info: `https://www.twilio.com/docs/errors/${code}` });
}

/** The Idempotency-Key header on every POST of the Accounts API. */
describe('Idempotency-Key', () => {
  let t: TestApp;
  let keys = 0;
  /** A key no other test uses. */
  const freshKey = () => `key-${++keys}-${Date.now()}`;

  const post = (path: string, as: Credentials, key: string | undefined, body: Record<string, string> | string = {}, contentType?: string) =>
    raw(t, path, { as, body, contentType, headers: key === undefined ? {} : { 'Idempotency-Key': key } });

  async function subaccountsOf(owner: string): Promise<string[]> {
    const { rows } = await t.database.pool.query<{ sid: string }>(
      'SELECT sid FROM account_read_model WHERE owner_account_sid = $1 AND sid <> $1 ORDER BY sid',
      [owner],
    );
    return rows.map((r) => r.sid);
  }

  async function storedKeys(accountSid: string): Promise<string[]> {
    const { rows } = await t.database.pool.query<{ key: string }>('SELECT key FROM idempotency_keys WHERE account_sid = $1 ORDER BY key', [accountSid]);
    return rows.map((r) => r.key);
  }

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('on create', () => {
    it('a retry returns the identical response, the same sid and token, and appends nothing', async () => {
      const main = await t.createMain('Retry', 'Full');
      const key = freshKey();
      const first = await post(LIST_PATH, main, key, { FriendlyName: 'once' });
      expect(first.status).toBe(201);
      const events = await eventCount(t);

      const again = await post(LIST_PATH, main, key, { FriendlyName: 'once' });
      expect(again.status).toBe(201);
      expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
      expect(again.text).toBe(first.text);
      expect(again.json).toMatchObject({ sid: first.json.sid, auth_token: first.json.auth_token, friendly_name: 'once' });
      // The same parameters as JSON, with an unknown one: the same request.
      const asJson = await post(LIST_PATH, main, key, JSON.stringify({ FriendlyName: 'once', Unknown: 'x' }), 'application/json');
      expect(asJson.text).toBe(first.text);

      expect(await eventCount(t)).toBe(events);
      expect(await subaccountsOf(main.sid)).toEqual([first.json.sid]);
      // The returned token is the real one.
      expect((await raw(t, accountPath(first.json.sid), { as: { sid: first.json.sid, authToken: first.json.auth_token } })).status).toBe(200);
    });

    it('without a key, two identical requests make two subaccounts', async () => {
      const main = await t.createMain('No key', 'Full');
      const [a, b] = [await post(LIST_PATH, main, undefined, { FriendlyName: 'twin' }), await post(LIST_PATH, main, undefined, { FriendlyName: 'twin' })];
      expect(a.json.sid).not.toBe(b.json.sid);
      expect(await subaccountsOf(main.sid)).toHaveLength(2);
      expect(await storedKeys(main.sid)).toEqual([]);
    });

    it('a key an hour old is still honoured, the dated default name included', async () => {
      const main = await t.createMain('Default name', 'Full');
      const key = freshKey();
      const first = await post(LIST_PATH, main, key);
      await t.database.pool.query(`UPDATE idempotency_keys SET created_at = created_at - interval '1 hour' WHERE key = $1`, [key]);
      const again = await post(LIST_PATH, main, key);
      expect(again.text).toBe(first.text);
      expect(first.json.friendly_name).toMatch(/^SubAccount Created at /);
    });

    it('10 simultaneous identical requests under one key: one subaccount, 10 identical responses', async () => {
      const main = await t.createMain('Race', 'Full');
      const key = freshKey();
      const events = await eventCount(t);
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(LIST_PATH, main, key, { FriendlyName: 'raced' })));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(responses.map((r) => r.text)).size).toBe(1);
      expect(await subaccountsOf(main.sid)).toEqual([responses[0].json.sid]);
      // SubaccountAdded on the owner, SubaccountCreated on the new stream: one create.
      expect(await eventCount(t)).toBe(events + 2);
      expect((await streamEvents(t, main.sid)).filter((e) => e.type === 'SubaccountAdded')).toHaveLength(1);
    });

    it('the same race on a Trial account at its limit of one: all 10 get the one subaccount, none 21480', async () => {
      const trial: AccountRecord = await t.createMain('Trial race', 'Trial');
      const key = freshKey();
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(LIST_PATH, trial, key, { FriendlyName: 'only' })));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(responses.map((r) => r.text)).size).toBe(1);
      expect(await subaccountsOf(trial.sid)).toEqual([responses[0].json.sid]);
    });

    it('the same key with other parameters, or on another endpoint: 422 20002, nothing appended', async () => {
      const main = await t.createMain('Mismatch', 'Full');
      const key = freshKey();
      const first = await post(LIST_PATH, main, key, { FriendlyName: 'first' });
      const events = await eventCount(t);

      const otherName = await post(LIST_PATH, main, key, { FriendlyName: 'second' });
      expectError(otherName, 422, 20002);
      expect(otherName.json.message).toContain(key);
      expectError(await post(LIST_PATH, main, key), 422, 20002);
      expectError(await post(accountPath(first.json.sid), main, key, { FriendlyName: 'first' }), 422, 20002);

      expect(await eventCount(t)).toBe(events);
      expect(await subaccountsOf(main.sid)).toEqual([first.json.sid]);
      expect((await post(LIST_PATH, main, key, { FriendlyName: 'first' })).text).toBe(first.text);
    });

    it('keys are per account: another account using the same key gets its own subaccount', async () => {
      const one = await t.createMain('One', 'Full');
      const other = await t.createMain('Other', 'Full');
      const key = freshKey();
      const a = await post(LIST_PATH, one, key, { FriendlyName: 'same' });
      const b = await post(LIST_PATH, other, key, { FriendlyName: 'same' });
      expect([a.status, b.status]).toEqual([201, 201]);
      expect(a.json.sid).not.toBe(b.json.sid);
      expect(b.json.owner_account_sid).toBe(other.sid);
      expect(await subaccountsOf(one.sid)).toEqual([a.json.sid]);
      expect(await subaccountsOf(other.sid)).toEqual([b.json.sid]);
      // And a subaccount's own key space is its own too.
      const sub = { sid: a.json.sid, authToken: a.json.auth_token };
      const rename = await post(accountPath(sub.sid), sub, key, { FriendlyName: 'renamed itself' });
      expect(rename.status).toBe(200);
      expect(rename.json.friendly_name).toBe('renamed itself');
    });

    it('a request refused with a 4xx stores nothing: the corrected request may use the key', async () => {
      const trial = await t.createMain('Refused', 'Trial');
      const key = freshKey();
      expectError(await post(LIST_PATH, trial, key, { FriendlyName: 'x'.repeat(65) }), 400, 20002);
      expect(await storedKeys(trial.sid)).toEqual([]);
      const created = await post(LIST_PATH, trial, key, { FriendlyName: 'fixed' });
      expect(created.status).toBe(201);
      expect(await storedKeys(trial.sid)).toEqual([key]);

      // A broken business rule (the Trial limit) is a 4xx too.
      const second = freshKey();
      expectError(await post(LIST_PATH, trial, second, { FriendlyName: 'over the limit' }), 400, 21480);
      expect(await storedKeys(trial.sid)).toEqual([key]);
      // So is a subaccount trying to create one.
      const sub = { sid: created.json.sid, authToken: created.json.auth_token };
      expectError(await post(LIST_PATH, sub, second), 400, 21101);
      expect(await storedKeys(sub.sid)).toEqual([]);
    });

    it('the stored answer is sealed: no row holds the auth token in plaintext', async () => {
      const main = await t.createMain('Sealed', 'Full');
      const created = await post(LIST_PATH, main, freshKey(), { FriendlyName: 'secret' });
      const renamed = await post(accountPath(main.sid), main, freshKey(), { FriendlyName: 'Sealed too' });
      const tokens = [created.json.auth_token, renamed.json.auth_token];
      expect(tokens).toEqual([expect.stringMatching(/^[0-9a-f]{32}$/), main.authToken]);
      const { rows } = await t.database.pool.query<{ row: string }>('SELECT t::text AS row FROM idempotency_keys t');
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const { row } of rows) {
        for (const token of tokens) expect(row).not.toContain(token);
        expect(row).not.toContain('secret');
      }
    });

    it('a key is honoured for 24 hours; after that it is a new request, and the key is stored afresh', async () => {
      const main = await t.createMain('Expiry', 'Full');
      const key = freshKey();
      const first = await post(LIST_PATH, main, key, { FriendlyName: 'day one' });
      await t.database.pool.query(`UPDATE idempotency_keys SET created_at = created_at - interval '24 hours 1 second' WHERE key = $1`, [key]);
      const later = await post(LIST_PATH, main, key, { FriendlyName: 'day two' });
      expect(later.status).toBe(201);
      expect(later.json.sid).not.toBe(first.json.sid);
      expect((await post(LIST_PATH, main, key, { FriendlyName: 'day two' })).text).toBe(later.text);
      expect(await subaccountsOf(main.sid)).toEqual([first.json.sid, later.json.sid].sort());
    });

    it('twilio-node sends the header through client.request and gets the original back', async () => {
      const main = await t.createMain('Client', 'Full');
      const client = clientFor(t, main);
      const key = freshKey();
      const send = () =>
        client.request({
          method: 'post',
          uri: `${t.baseUrl}${LIST_PATH}`,
          data: { FriendlyName: 'via twilio-node' },
          headers: { 'Idempotency-Key': key, 'Content-Type': 'application/x-www-form-urlencoded' },
        });
      const [a, b] = [await send(), await send()];
      expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
      const json = (body: unknown) => (typeof body === 'string' ? JSON.parse(body) : body);
      expect(json(b.body)).toEqual(json(a.body));
      expect(await subaccountsOf(main.sid)).toEqual([json(a.body).sid]);
    });
  });

  describe('on update', () => {
    it('a retry returns the first answer and appends nothing, even after the account changed', async () => {
      const main = await t.createMain('Update', 'Full');
      const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'before' });
      const key = freshKey();
      const first = await post(accountPath(sub.sid), main, key, { FriendlyName: 'after', Status: 'suspended' });
      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({ friendly_name: 'after', status: 'suspended' });
      expect((await post(accountPath(sub.sid), main, key, { Status: 'suspended', FriendlyName: 'after' })).text).toBe(first.text);
      expect((await streamEvents(t, sub.sid)).map((e) => e.type)).toEqual(['SubaccountCreated', 'AccountRenamed', 'AccountStatusChanged']);

      // Changed since by another request: the retry still gets the answer it was given.
      expect((await post(accountPath(sub.sid), main, undefined, { FriendlyName: 'later' })).status).toBe(200);
      const events = await eventCount(t);
      expect((await post(accountPath(sub.sid), main, key, { FriendlyName: 'after', Status: 'suspended' })).text).toBe(first.text);
      expect(await eventCount(t)).toBe(events);

      expectError(await post(accountPath(sub.sid), main, key, { FriendlyName: 'after', Status: 'active' }), 422, 20002);
      expectError(await post(accountPath(sub.sid), main, key, { FriendlyName: 'after' }), 422, 20002);
      expect(await eventCount(t)).toBe(events);
    });

    it('a POST that changes nothing is recorded too, and replayed as it was answered', async () => {
      const main = await t.createMain('Same name', 'Full');
      const key = freshKey();
      const events = await eventCount(t);
      const first = await post(accountPath(main.sid), main, key, { FriendlyName: 'Same name' });
      expect(first.status).toBe(200);
      expect(await eventCount(t)).toBe(events);
      expect(await storedKeys(main.sid)).toEqual([key]);

      expect((await post(accountPath(main.sid), main, undefined, { FriendlyName: 'Renamed' })).status).toBe(200);
      const again = await post(accountPath(main.sid), main, key, { FriendlyName: 'Same name' });
      expect(again.text).toBe(first.text);
      expect(again.json.friendly_name).toBe('Same name');
    });

    it('10 simultaneous identical updates under one key: one event, 10 identical responses', async () => {
      const main = await t.createMain('Update race', 'Full');
      const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'v0' });
      const key = freshKey();
      const responses = await Promise.all(Array.from({ length: 10 }, () => post(accountPath(sub.sid), main, key, { FriendlyName: 'v1' })));
      expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(new Set(responses.map((r) => r.text)).size).toBe(1);
      expect((await streamEvents(t, sub.sid)).map((e) => e.type)).toEqual(['SubaccountCreated', 'AccountRenamed']);
    });

    it('a refused update stores nothing', async () => {
      const main = await t.createMain('Refused update', 'Full');
      const key = freshKey();
      expectError(await post(accountPath(main.sid), main, key, { Status: 'suspended' }), 400, 21477);
      expectError(await post(accountPath(main.sid), main, key, { Status: 'bogus' }), 400, 21475);
      expectError(await post(accountPath('AC' + '0'.repeat(32)), main, key, { FriendlyName: 'nobody' }), 404, 20404);
      expect(await storedKeys(main.sid)).toEqual([]);
      expect((await post(accountPath(main.sid), main, key, { FriendlyName: 'valid' })).status).toBe(200);
      expect(await storedKeys(main.sid)).toEqual([key]);
    });
  });

  describe('key format', () => {
    it.each([
      ['empty', ''],
      ['256 characters', 'k'.repeat(256)],
      ['not ASCII', 'clé'],
      ['a control character', 'a\tb'],
    ])('%s: 400 20002, nothing done', async (_, key) => {
      const main = await t.createMain('Format', 'Full');
      const events = await eventCount(t);
      expectError(await post(LIST_PATH, main, key, { FriendlyName: 'never' }), 400, 20002);
      expectError(await post(accountPath(main.sid), main, key, { FriendlyName: 'never' }), 400, 20002);
      expect(await eventCount(t)).toBe(events);
      expect(await storedKeys(main.sid)).toEqual([]);
    });

    it('255 printable characters, spaces and symbols included, are a key', async () => {
      const main = await t.createMain('Long key', 'Full');
      const key = `a b~!"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}`.padEnd(255, 'z');
      const first = await post(LIST_PATH, main, key, { FriendlyName: 'long' });
      expect(first.status).toBe(201);
      expect((await post(LIST_PATH, main, key, { FriendlyName: 'long' })).text).toBe(first.text);
      expect(await storedKeys(main.sid)).toEqual([key]);
    });

    it('the header given twice: 400 20002', async () => {
      const main = await t.createMain('Twice', 'Full');
      const url = new URL(`${t.baseUrl}${LIST_PATH}`);
      const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(
          url,
          {
            method: 'POST',
            headers: { authorization: basic(main), 'content-type': 'application/x-www-form-urlencoded', 'idempotency-key': ['one', 'two'] },
          },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, body }));
          },
        );
        req.on('error', reject);
        req.end('FriendlyName=twice');
      });
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body)).toMatchObject({ status: 400, code: 20002 });
      expect(await subaccountsOf(main.sid)).toEqual([]);
    });
  });
});
