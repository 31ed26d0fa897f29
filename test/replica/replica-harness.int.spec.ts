import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, startEmbeddedReplica, type EmbeddedPostgres, type EmbeddedReplica } from '@accountable/database';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

describe('embedded streaming replica', () => {
  let dir: string;
  let primary: EmbeddedPostgres;
  let replica: EmbeddedReplica;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accountable-replica-'));
    await chmod(dir, 0o755); // the server runs as the postgres user when we are root
    primary = await startEmbeddedPostgres({ dataDir: path.join(dir, 'primary'), database: 'app' });
    replica = await startEmbeddedReplica({ primary, primaryDataDir: path.join(dir, 'primary'), dataDir: path.join(dir, 'replica'), port: await freePort() });
  });
  afterAll(async () => {
    await replica?.stop();
    await primary?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams the primary’s writes and refuses writes itself', async () => {
    const p = new pg.Client({ connectionString: primary.url });
    const r = new pg.Client({ connectionString: replica.url });
    await p.connect();
    await r.connect();
    await p.query('CREATE TABLE t (x int)');
    await p.query('INSERT INTO t VALUES (42)');
    let seen: number | undefined;
    for (let i = 0; i < 200 && seen === undefined; i++) {
      seen = (await r.query('SELECT x FROM t').catch(() => ({ rows: [] as { x: number }[] }))).rows[0]?.x;
      if (seen === undefined) await new Promise((res) => setTimeout(res, 25));
    }
    expect(seen).toBe(42);
    expect((await r.query('SELECT pg_is_in_recovery() AS standby')).rows[0].standby).toBe(true);
    await expect(r.query('INSERT INTO t VALUES (1)')).rejects.toMatchObject({ code: '25006' });
    await p.end();
    await r.end();
  });
});
