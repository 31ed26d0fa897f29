import { sql } from 'kysely';
import twilio from 'twilio';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** replay, state, verify and blue-green rebuild, through the built CLI on the service's database. */
describe('CLI for debugging', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let mainSid: string;
  let client: ReturnType<typeof twilio>;
  let subSid: string;
  let between: string;

  const eventCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.database.db)).rows[0].n);
  const readModel = async () =>
    (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(t.database.db)).rows;

  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR };
    const main = await t.createMain('Debug main', 'Full');
    mainSid = main.sid;
    client = twilio(main.sid, main.authToken);
    client.api.baseUrl = t.baseUrl;
    subSid = (await client.api.v2010.accounts.create({ friendlyName: 'alpha' })).sid;
    await pause(20);
    await client.api.v2010.accounts(subSid).update({ friendlyName: 'beta' });
    await pause(50);
    between = new Date().toISOString();
    await pause(50);
    await client.api.v2010.accounts(subSid).update({ friendlyName: 'gamma', status: 'suspended' });
  });
  afterAll(() => t.close());

  it('replay --json: every event in order with what it changed and the state after it', async () => {
    const before = await eventCount();
    const result = await runCli(['replay', subSid, '--json'], env);
    expect(result.code).toBe(0);
    const steps = JSON.parse(result.stdout);
    expect(steps.map((s: { version: number; type: string }) => [s.version, s.type])).toEqual([
      [1, 'SubaccountCreated'],
      [2, 'AccountRenamed'],
      [3, 'AccountRenamed'],
      [4, 'AccountStatusChanged'],
    ]);
    expect(Object.keys(steps[0]).sort()).toEqual(
      ['actor', 'causation_id', 'changes', 'event_id', 'reason', 'recorded_at', 'state', 'subaccount_sid', 'type', 'version'],
    );
    expect(steps[1].changes).toEqual({ friendly_name: { previous: 'alpha', updated: 'beta' } });
    expect(steps[3].changes).toEqual({ status: { previous: 'active', updated: 'suspended' } });
    expect(steps[1].actor).toMatchObject({ type: 'account', sid: mainSid, source: 'api' });
    expect(steps[3].state).toMatchObject({ sid: subSid, friendly_name: 'gamma', status: 'suspended', owner_account_sid: mainSid });
    expect(JSON.stringify(steps)).not.toMatch(/auth_token|[0-9a-f]{32}"?$/m);
    expect((await runCli(['replay', subSid, '--to-version', '2', '--json'], env)).stdout).toMatch(/"version": 2/);
    expect(JSON.parse((await runCli(['replay', subSid, '--to-version', '2', '--json'], env)).stdout)).toHaveLength(2);
    expect(await eventCount()).toBe(before);
  });

  it('state --as-of a time between two changes is the state in between; --version likewise', async () => {
    const asOf = await runCli(['state', subSid, '--as-of', between, '--json'], env);
    expect(asOf.code).toBe(0);
    expect(JSON.parse(asOf.stdout)).toMatchObject({ friendly_name: 'beta', status: 'active', version: 2 });
    expect(JSON.parse(asOf.stdout)).not.toHaveProperty('auth_token');
    const v1 = await runCli(['state', subSid, '--version', '1', '--json'], env);
    expect(JSON.parse(v1.stdout)).toMatchObject({ friendly_name: 'alpha', version: 1 });
    const early = await runCli(['state', subSid, '--as-of', '2000-01-01T00:00:00Z', '--json'], env);
    expect(early.code).toBe(1);
    expect(early.stdout).toBe('');
  });

  it('verify passes on a consistent read model and names the drifted account and field after direct SQL', async () => {
    const ok = await runCli(['verify', '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, drift: [] });
    await sql`UPDATE account_read_model SET friendly_name = 'tampered', status = 'closed' WHERE sid = ${subSid}`.execute(t.database.db);
    const drifted = await runCli(['verify', '--json'], env);
    expect(drifted.code).toBe(1);
    const report = JSON.parse(drifted.stdout);
    expect(report.ok).toBe(false);
    expect(report.drift).toEqual(
      expect.arrayContaining([
        { sid: subSid, field: 'friendly_name', expected: 'gamma', actual: 'tampered' },
        { sid: subSid, field: 'status', expected: 'suspended', actual: 'closed' },
      ]),
    );
    const human = await runCli(['verify'], env);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(new RegExp(`${subSid} friendly_name`));
  });

  it('projections rebuild accounts repairs the read model and gives the same rows as the log says', async () => {
    const rebuilt = await runCli(['projections', 'rebuild', 'accounts', '--json'], env);
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({ projection: 'accounts', events: await eventCount() });
    expect((await runCli(['verify', '--json'], env)).code).toBe(0);
    const before = await readModel();
    expect((await runCli(['projections', 'rebuild', 'accounts'], env)).code).toBe(0);
    expect(await readModel()).toEqual(before);
  });

  it('a rebuild while writes continue loses nothing', async () => {
    let writing = true;
    const created: string[] = [];
    const writer = (async () => {
      for (let i = 0; writing && i < 300; i++) {
        const sub = await client.api.v2010.accounts.create({ friendlyName: `w${i}` });
        created.push(sub.sid);
        await client.api.v2010.accounts(sub.sid).update({ friendlyName: `w${i}-renamed` });
      }
    })();
    await pause(200);
    const rebuilt = await runCli(['projections', 'rebuild', 'accounts', '--batch-size', '3'], env);
    writing = false;
    await writer;
    expect(rebuilt.code).toBe(0);
    expect(created.length).toBeGreaterThan(0);
    const listed = new Set((await client.api.v2010.accounts.list()).map((a) => a.sid));
    for (const sid of created) expect(listed.has(sid)).toBe(true);
    await t.drainProjections();
    const verify = await runCli(['verify', '--json'], env);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  });

  it('audit answers who changed what, when and from where, with filters', async () => {
    await t.drainProjections();
    const result = await runCli(['audit', '--resource', subSid, '--type', 'account.updated', '--json'], env);
    expect(result.code).toBe(0);
    const entries = JSON.parse(result.stdout);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    for (const e of entries) expect(e).toMatchObject({ resource_sid: subSid, event_type: 'account.updated' });
    const rename = entries.find((e: { event_data: Record<string, unknown> }) => JSON.stringify(e.event_data).includes('"alpha"'));
    expect(rename).toMatchObject({
      actor_type: 'account',
      actor_sid: mainSid,
      source: 'api',
      source_ip_address: '127.0.0.1',
      event_data: { friendly_name: { previous: 'alpha', updated: 'beta' } },
    });
    expect(rename.request_id).toMatch(/^RQ[0-9a-f]{32}$/);
    const none = await runCli(['audit', '--actor', subSid, '--from', '2000-01-01T00:00:00Z', '--to', '2000-01-02T00:00:00Z', '--json'], env);
    expect(JSON.parse(none.stdout)).toEqual([]);
    const human = await runCli(['audit', '--resource', subSid], env);
    expect(human.stdout).toMatch(/friendly_name: "alpha" → "beta"/);
    const bad = await runCli(['audit', '--resource', 'nope'], env);
    expect(bad.code).toBe(2);
  });

  it('projections status lists each projection with its checkpoint and lag', async () => {
    await t.drainProjections();
    const status = await runCli(['projections', 'status', '--json'], env);
    expect(status.code).toBe(0);
    const rows = JSON.parse(status.stdout);
    expect(rows.map((r: { name: string }) => r.name)).toEqual(['accounts', 'owner-cascade', 'audit', 'ledger']);
    for (const row of rows) expect(row).toMatchObject({ lag_events: 0, lag_seconds: 0 });
  });

  it('human output shows control characters an account stored (a FriendlyName) escaped, and never obeys them', async () => {
    // Clear the screen, set the window title, a C1 CSI, a right-to-left override, and a line
    // break followed by what looks like another replay step.
    const hostile = 'evil\x1b[2J\x1b]0;owned\x07\x9b31m\u202eslim\nv99  2026-01-01T00:00:00Z  Forged';
    const sid = (await client.api.v2010.accounts.create({ friendlyName: hostile })).sid;
    await t.drainProjections();
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;
    const shown = 'evil\\x1b[2J\\x1b]0;owned\\x07\\x9b31m\\u202eslim\\x0av99  2026-01-01T00:00:00Z  Forged';
    for (const args of [['replay', sid], ['state', sid, '--version', '1']]) {
      const result = await runCli(args, env);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toMatch(raw);
      expect(result.stdout).toContain(shown);
      expect(result.stdout).not.toMatch(/^v99/m);
    }
    const audit = await runCli(['audit', '--resource', sid], env);
    expect(audit.code).toBe(0);
    expect(audit.stdout).not.toMatch(raw);
    expect(audit.stdout.trim().split('\n')).toHaveLength(1);
    // --json is data, not terminal text: the value as stored.
    expect(JSON.parse((await runCli(['state', sid, '--version', '1', '--json'], env)).stdout).friendly_name).toBe(hostile);
  });
});
