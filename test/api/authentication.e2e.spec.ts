import type { AccountRecord } from '@accountable/accounts';
import { newAuthToken } from '@accountable/secrets';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, clientFor, raw, type Credentials } from './accounts-api.helpers';

/**
 * Authentication reads the caller's row on every request (the account the route names comes in
 * the same statement) and remembers only that a password matched a sealed token: a suspension or
 * a new token takes effect on the very next request, and no account row outlives its request.
 */
describe('Accounts API: authentication and the account the route names', () => {
  let t: TestApp;
  let main: AccountRecord;
  let other: AccountRecord;
  let sub: Credentials;
  let theirs: Credentials;

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Main', 'Full');
    other = await t.createMain('Other', 'Full');
    sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'sub' });
    theirs = await clientFor(t, other).api.v2010.accounts.create({ friendlyName: 'theirs' });
  });
  afterAll(() => t.close());

  const get = (sid: string, as: Credentials) => raw(t, accountPath(sid), { as });

  it('serves the caller itself and, to a main account, its subaccount with its own token', async () => {
    for (let i = 0; i < 2; i++) {
      expect(await get(main.sid, main)).toMatchObject({ status: 200, json: { sid: main.sid, auth_token: main.authToken } });
      expect(await get(sub.sid, sub)).toMatchObject({ status: 200, json: { sid: sub.sid, auth_token: sub.authToken } });
      expect(await get(sub.sid, main)).toMatchObject({ status: 200, json: { sid: sub.sid, auth_token: sub.authToken, owner_account_sid: main.sid } });
    }
  });

  it('another tenant’s account, an owner seen by its subaccount and an unknown sid are all 404 20404', async () => {
    for (const [target, as] of [[theirs, main], [other, main], [main, sub], [{ sid: `AC${'0'.repeat(32)}` }, main]] as const) {
      expect(await get(target.sid, as)).toMatchObject({ status: 404, json: { code: 20404 } });
    }
  });

  it('wrong credentials are 401 20003 whatever the route names, after successes too', async () => {
    expect((await get(main.sid, main)).status).toBe(200);
    for (const target of [main.sid, sub.sid, theirs.sid, `AC${'0'.repeat(32)}`]) {
      expect(await get(target, { sid: main.sid, authToken: newAuthToken() })).toMatchObject({ status: 401, json: { code: 20003 } });
      expect(await get(target, { sid: `AC${'1'.repeat(32)}`, authToken: main.authToken })).toMatchObject({ status: 401, json: { code: 20003 } });
    }
  });

  it('each request reads the account afresh: a rename shows at once, to the owner and to the account itself', async () => {
    expect((await get(sub.sid, main)).json.friendly_name).toBe('sub');
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ friendlyName: 'renamed' });
    expect((await get(sub.sid, main)).json.friendly_name).toBe('renamed');
    expect((await get(sub.sid, sub)).json.friendly_name).toBe('renamed');
  });

  it('a suspension takes effect on the next request of credentials that have just worked', async () => {
    expect((await get(sub.sid, sub)).status).toBe(200);
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'suspended' });
    const refused = await get(sub.sid, sub);
    expect(refused).toMatchObject({ status: 401, json: { code: 20003 } });
    expect(refused.json.message).toMatch(/not active/);
    expect(await get(sub.sid, main)).toMatchObject({ status: 200, json: { status: 'suspended' } });
    await clientFor(t, main).api.v2010.accounts(sub.sid).update({ status: 'active' });
    expect((await get(sub.sid, sub)).status).toBe(200);
  });

  it('a new token takes effect on the next request: the old one, though it has just worked, is refused', async () => {
    expect((await get(other.sid, other)).status).toBe(200);
    const token = newAuthToken();
    await t.database.pool.query('UPDATE account_read_model SET auth_token = $1 WHERE sid = $2', [t.runtime.keyring.seal(token, other.sid), other.sid]);
    expect(await get(other.sid, other)).toMatchObject({ status: 401, json: { code: 20003 } });
    expect(await get(other.sid, { sid: other.sid, authToken: token })).toMatchObject({ status: 200, json: { auth_token: token } });
  });

  it('a sealed token copied into another account’s row does not open for it, though it has just worked for its own', async () => {
    expect((await get(theirs.sid, theirs)).status).toBe(200);
    const { rows } = await t.database.pool.query<{ auth_token: string }>('SELECT auth_token FROM account_read_model WHERE sid = $1', [theirs.sid]);
    await t.database.pool.query('UPDATE account_read_model SET auth_token = $1 WHERE sid = $2', [rows[0].auth_token, sub.sid]);
    // A token that does not open is no token: refused as a wrong password is, never a way in, never a 500.
    expect(await get(sub.sid, { sid: sub.sid, authToken: theirs.authToken })).toMatchObject({ status: 401, json: { code: 20003 } });
    expect(await get(sub.sid, sub)).toMatchObject({ status: 401, json: { code: 20003 } });
  });
});
