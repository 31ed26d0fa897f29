import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import {
  createKysely,
  createPool,
  migrateToLatest,
  startEmbeddedPostgres,
  startEmbeddedReplica,
  type Database,
  type EmbeddedPostgres,
  type EmbeddedReplica,
} from '@accountable/database';
import { EventStore, ProjectionAdmin, ProjectionRunner } from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { appendAccounts, liveRows } from './rebuild.helpers';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * With READ_DATABASE_URL the service reads the projections on a streaming replica, where the
 * swap arrives as replayed DDL: readers there must not see an empty or missing table either.
 */
describe('rebuild seen from a streaming replica', () => {
  let dir: string;
  let primary: EmbeddedPostgres;
  let replica: EmbeddedReplica;
  let db: Kysely<Database>;
  let reader: pg.Client;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accountable-rebuild-replica-'));
    await chmod(dir, 0o755); // the server runs as the postgres user when we are root
    primary = await startEmbeddedPostgres({ dataDir: path.join(dir, 'primary'), database: 'app', settings: { fsync: 'off' } });
    replica = await startEmbeddedReplica({ primary, primaryDataDir: path.join(dir, 'primary'), dataDir: path.join(dir, 'replica'), port: await freePort() });
    db = createKysely(createPool(primary.url, { max: 10 }));
    await migrateToLatest(db);
    reader = new pg.Client({ connectionString: replica.url });
    await reader.connect();
  }, 120_000);
  afterAll(async () => {
    await reader?.end();
    await db?.destroy();
    await replica?.stop();
    await primary?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Waits until the replica has replayed everything the primary has written so far. */
  async function replayed(): Promise<void> {
    const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(db);
    const deadline = Date.now() + 30_000;
    while (!(await reader.query<{ done: boolean }>('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [rows[0].lsn])).rows[0].done) {
      if (Date.now() > deadline) throw new Error('the replica did not catch up');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it.each(['accounts', 'audit'])('%s: every read on the replica sees the whole table, old or new', async (name) => {
    const store = new EventStore(db);
    const projection = name === 'audit' ? new AuditHistoryProjection() : new AccountReadModelProjection();
    const [table] = projection.tables;
    await appendAccounts(store, 8);
    const runner = new ProjectionRunner(db, store, [projection], { connectionString: primary.url });
    const expected = (await liveRows(db, runner, projection)).length;
    await replayed();

    // Which table (its oid) each read saw and how many rows it had.
    const read = async () =>
      (await reader.query<{ oid: number | null; n: string }>(`SELECT min(tableoid::int) AS oid, count(*) AS n FROM ${table} WHERE sid <> $1`, [''])).rows[0];
    const seen: { oid: number | null; n: string }[] = [];
    let reading = true;
    const reads = (async () => {
      while (reading) seen.push(await read());
    })();
    try {
      await new ProjectionAdmin(db, store).rebuild(projection, 10);
      await replayed();
    } finally {
      reading = false;
      await reads;
    }
    seen.push(await read());
    expect(new Set(seen.map((r) => Number(r.n)))).toEqual(new Set([expected]));
    expect(seen[0].oid).not.toBe(seen[seen.length - 1].oid);
  });
});
