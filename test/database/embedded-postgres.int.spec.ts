import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '@accountable/database';
import { postmasterPid, waitGone } from '../reliability/support/embedded';
import { ROOT } from '../support/processes';

// Tests the embedded manager itself, so it runs whatever DATABASE_URL says.
describe('startEmbeddedPostgres', () => {
  let dataDir: string;
  let racedDir: string;
  const started: EmbeddedPostgres[] = [];
  const settings = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

  async function start(dir = dataDir): Promise<EmbeddedPostgres> {
    const server = await startEmbeddedPostgres({ dataDir: dir, database: 'embedded_test', settings });
    started.push(server);
    return server;
  }

  async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<T>(text)).rows;
    } finally {
      await client.end();
    }
  }

  async function reachable(url: string): Promise<boolean> {
    return query(url, 'SELECT 1').then(
      () => true,
      () => false,
    );
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-embedded-'));
    racedDir = await mkdtemp(path.join(tmpdir(), 'accountable-embedded-raced-'));
  });
  afterAll(async () => {
    for (const server of started.reverse()) await server.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(racedDir, { recursive: true, force: true });
  });

  it('starts, keeps its data across a stop and a start, and lets a second caller join instead of starting again', async () => {
    const first = await start();
    expect(first.owned).toBe(true);
    expect(first.url).toMatch(new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${first.port}/embedded_test$`));
    await query(first.url, `CREATE TABLE kept (note text); INSERT INTO kept VALUES ('written before the restart')`);

    await first.stop();
    expect(await reachable(first.url)).toBe(false);

    const second = await start();
    expect(second.owned).toBe(true);
    expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'written before the restart' }]);

    const joined = await start();
    expect(joined).toMatchObject({ owned: false, port: second.port, url: second.url });
    expect(await query(joined.url, 'SELECT note FROM kept')).toEqual([{ note: 'written before the restart' }]);
    const [{ started_at }] = await query<{ started_at: Date }>(second.adminUrl, 'SELECT pg_postmaster_start_time() AS started_at');

    // Only the owner stops the server.
    await joined.stop();
    expect(await reachable(second.url)).toBe(true);
    expect(await query<{ started_at: Date }>(joined.adminUrl, 'SELECT pg_postmaster_start_time() AS started_at')).toEqual([{ started_at }]);

    await second.stop();
    expect(await reachable(second.url)).toBe(false);
  });

  it('two callers starting at once on a fresh directory end up on one server', async () => {
    // allSettled: a caller that failed must not leave the other one running unobserved.
    const results = await Promise.allSettled([start(racedDir), start(racedDir)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const [a, b] = results.map((r) => (r as PromiseFulfilledResult<EmbeddedPostgres>).value);
    expect([a.owned, b.owned].sort()).toEqual([false, true]);
    expect(a.port).toBe(b.port);
    await query(a.url, 'CREATE TABLE seen_by_both (x int)');
    expect(await query(b.url, 'SELECT count(*)::int AS n FROM seen_by_both')).toEqual([{ n: 0 }]);
    await Promise.all([a.stop(), b.stop()]);
    expect(await reachable(a.url)).toBe(false);
  });

  it('a server whose starter was SIGKILLed is adopted by exactly one of the callers that come next, and stops with it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'accountable-embedded-orphan-'));
    try {
      // The starter: another process (the built library), killed once its server runs.
      const main = path.join(ROOT, 'dist/libs/database/src/embedded-postgres.js');
      const starter = spawn(process.execPath, ['-e', `require(${JSON.stringify(main)}).startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)} }).then(() => console.log('started'))`], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        starter.stdout.on('data', (d) => String(d).includes('started') && resolve());
        starter.on('exit', (code) => reject(new Error(`the starter exited (${code}) before its server ran`)));
      });
      const orphan = postmasterPid(dir)!;
      starter.kill('SIGKILL');
      await waitGone([starter.pid!]);
      expect(postmasterPid(dir)).toBe(orphan);

      const [a, b] = await Promise.all([start(dir), start(dir)]);
      expect([a.owned, b.owned].sort()).toEqual([false, true]);
      const adopter = a.owned ? a : b;
      const joiner = a.owned ? b : a;
      await joiner.stop();
      expect(await reachable(adopter.url)).toBe(true);
      // Another caller while the adopter lives joins it.
      expect((await start(dir)).owned).toBe(false);
      await adopter.stop();
      await waitGone([orphan]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
