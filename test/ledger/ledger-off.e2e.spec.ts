import { sql } from 'kysely';
import { ProjectorService } from '@accountable/platform';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';

/** LEDGER=off: no projection runs it, and its endpoints and commands say it is off (never a 500, never exit 1). */
describe('ledger switched off', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let main: { sid: string; authToken: string };

  const get = async (path: string) => {
    const response = await fetch(`${t.baseUrl}${path}`, { headers: { authorization: `Basic ${Buffer.from(`${main.sid}:${main.authToken}`).toString('base64')}` } });
    return { status: response.status, json: (await response.json()) as { status: number; code: number; message: string } };
  };

  beforeAll(async () => {
    t = await startTestApp({ env: { LEDGER: 'off' } });
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR, LEDGER: 'off' };
    main = await t.createMain('Ledger off', 'Full');
    await t.drainProjections();
  });
  afterAll(() => t.close());

  it('runs every projection but the ledger: no leaf, no head, no checkpoint', async () => {
    const { runner } = t.app.get(ProjectorService);
    expect(runner.projections.map((p) => p.name).sort()).toEqual(['accounts', 'audit', 'owner-cascade']);
    const counts = await sql<{ leaves: number; heads: number; checkpoints: number }>`
      SELECT (SELECT count(*)::int FROM ledger_leaves) AS leaves, (SELECT count(*)::int FROM ledger_heads) AS heads,
             (SELECT count(*)::int FROM projection_checkpoints WHERE name = 'ledger') AS checkpoints`.execute(t.database.db);
    expect(counts.rows[0]).toEqual({ leaves: 0, heads: 0, checkpoints: 0 });
  });

  it('answers the ledger endpoints 404 20404 saying it is off', async () => {
    const event = (await sql<{ id: string }>`SELECT replace(event_id::text, '-', '') AS id FROM events LIMIT 1`.execute(t.database.db)).rows[0].id;
    for (const path of ['/v1/Ledger/Head', `/v1/Events/AE${event}/Proof`]) {
      const answer = await get(path);
      expect(answer).toMatchObject({ status: 404, json: { status: 404, code: 20404 } });
      expect(answer.json.message).toContain('LEDGER=off');
    }
  });

  it('has ledger head, verify and prove and projections rebuild ledger say so, exit 2', async () => {
    for (const args of [['ledger', 'head'], ['ledger', 'verify', '--json'], ['ledger', 'prove', `AE${'0'.repeat(32)}`], ['projections', 'rebuild', 'ledger']]) {
      const result = await runCli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain('LEDGER=off');
      expect(result.stdout).toBe('');
    }
  });
});
