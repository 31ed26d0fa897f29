import { sql } from 'kysely';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';
import { raw } from '../api/accounts-api.helpers';

/** The CLI on API keys: `keys SID`, and rebuild and verify covering api_keys. */
describe('CLI: credentials', () => {
  let t: TestApp;
  let env: Record<string, string>;
  const keyRows = async () => (await sql`SELECT * FROM api_keys ORDER BY sid`.execute(t.database.db)).rows;

  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR };
  });
  afterAll(() => t.close());

  it('keys SID lists the keys without secrets; rebuild gives the same api_keys; verify sees a tampered or missing key', async () => {
    const main = await t.createMain('Keys');
    const a = (await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main, body: { FriendlyName: 'first' } })).json;
    const b = (await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main, body: {} })).json;
    const gone = (await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main, body: {} })).json;
    await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys/${a.sid}.json`, { as: main, body: { FriendlyName: 'renamed' } });
    await raw(t, `/2010-04-01/Accounts/${main.sid}/Keys/${gone.sid}.json`, { as: main, method: 'DELETE' });

    const listed = await runCli(['keys', main.sid, '--json'], env);
    expect(listed.code).toBe(0);
    const keys = JSON.parse(listed.stdout);
    expect(keys.map((k: { sid: string }) => k.sid).sort()).toEqual([a.sid, b.sid].sort());
    expect(keys.find((k: { sid: string }) => k.sid === a.sid).friendly_name).toBe('renamed');
    expect(listed.stdout).not.toContain(a.secret);
    const human = await runCli(['keys', main.sid], env);
    expect(human.stdout).toContain(b.sid);
    expect(human.stdout).toContain('(no name)');
    expect((await runCli(['keys', 'nope'], env)).code).not.toBe(0);

    await t.drainProjections();
    const before = await keyRows();
    expect(before).toHaveLength(2);
    expect((await runCli(['projections', 'rebuild', 'accounts', '--json'], env)).code).toBe(0);
    expect(await keyRows()).toEqual(before);
    expect(JSON.parse((await runCli(['verify', '--json'], env)).stdout)).toMatchObject({ ok: true });

    await sql`UPDATE api_keys SET friendly_name = 'tampered' WHERE sid = ${a.sid}`.execute(t.database.db);
    await sql`DELETE FROM api_keys WHERE sid = ${b.sid}`.execute(t.database.db);
    const drifted = await runCli(['verify', '--json'], env);
    expect(drifted.code).toBe(1);
    const fields = JSON.parse(drifted.stdout).drift.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining([`api_keys ${a.sid} friendly_name`, `api_keys ${b.sid}`]));
    expect((await runCli(['projections', 'rebuild', 'accounts'], env)).code).toBe(0);
    expect(await keyRows()).toEqual(before);
  });

  it('rotate-token SID: a new token printed once; the old primary and any secondary refused at once; verify holds', async () => {
    const main = await t.createMain('Leaked');
    const status = (password: string) =>
      fetch(`${t.baseUrl}/2010-04-01/Accounts/${main.sid}.json`, { headers: { authorization: `Basic ${Buffer.from(`${main.sid}:${password}`).toString('base64')}` } }).then((r) => r.status);
    const secondary = (await raw(t, '/v1/AuthTokens/Secondary', { as: main, method: 'POST' })).json.secondary_auth_token;
    expect(await status(main.authToken)).toBe(200);
    const rotated = await runCli(['rotate-token', main.sid, '--json'], env);
    expect(rotated.code).toBe(0);
    const { auth_token: token, account_sid } = JSON.parse(rotated.stdout);
    expect(account_sid).toBe(main.sid);
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(await status(main.authToken)).toBe(401);
    expect(await status(secondary)).toBe(401);
    expect(await status(token)).toBe(200);
    const human = await runCli(['rotate-token', main.sid], env);
    expect(human.code).toBe(0);
    const newer = /new auth token: ([0-9a-f]{32})/.exec(human.stdout)![1];
    expect(human.stdout.split(newer)).toHaveLength(2);
    expect(await status(token)).toBe(401);
    expect(await status(newer)).toBe(200);
    const events = (await sql<{ type: string; metadata: { actorType: string } }>`SELECT type, metadata FROM events WHERE stream_id = ${`account-${main.sid}`} ORDER BY stream_version`.execute(t.database.db)).rows;
    expect(events.map((e) => e.type).slice(-2)).toEqual(['SecondaryAuthTokenCreated', 'AuthTokenPromoted']);
    expect(events[events.length - 1].metadata.actorType).toBe('operator');
    expect((await runCli(['rotate-token', 'AC' + '0'.repeat(32)], env)).code).not.toBe(0);
    // A secondary left in place on another account, and a rebuild: the same rows, tokens included.
    const other = await t.createMain('Other');
    await raw(t, '/v1/AuthTokens/Secondary', { as: other, method: 'POST' });
    await t.drainProjections();
    expect(JSON.parse((await runCli(['verify', '--json'], env)).stdout)).toMatchObject({ ok: true });
    const rows = async () => (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(t.database.db)).rows;
    const before = await rows();
    expect(before.filter((r: any) => r.secondary_auth_token !== null)).toHaveLength(1);
    expect((await runCli(['projections', 'rebuild', 'accounts'], env)).code).toBe(0);
    expect(await rows()).toEqual(before);
    await sql`UPDATE account_read_model SET secondary_auth_token = auth_token WHERE sid = ${main.sid}`.execute(t.database.db);
    const drifted = JSON.parse((await runCli(['verify', '--json'], env)).stdout);
    expect(drifted.drift).toContainEqual({ sid: main.sid, field: 'secondary_auth_token', expected: null, actual: '(differs)' });
    expect(JSON.stringify(drifted)).not.toContain(newer);
  });
});
