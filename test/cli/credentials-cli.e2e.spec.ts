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
});
