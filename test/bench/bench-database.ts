import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createKysely, createPool, migrateToLatest, startEmbeddedPostgres } from '@accountable/database';
import { parentPid } from './cpu-meter';

export interface BenchDatabase {
  /** The bench's own database (`accountable_bench_<random>`). */
  url: string;
  name: string;
  /** `embedded PostgreSQL` or `DATABASE_URL`. */
  server: string;
  /** A pool on the bench database, for the bench's own queries (setup, probes, generation). */
  pool: pg.Pool;
  /** The server's durability settings: they decide what a commit costs. */
  settings: Record<string, string>;
  postgresVersion: string;
  /** True when `pg_xact_commit_timestamp` can be used (track_commit_timestamp = on). */
  commitTimestamps: boolean;
  /** True when pg_stat_statements is loaded and installed in the bench database. */
  statementStats: boolean;
  /** The server's postmaster process, when it runs on this machine (for CPU accounting). */
  postmasterPid: number | null;
  drop(): Promise<void>;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh, migrated database on the embedded PostgreSQL (default: started in a temporary
 * directory with the server's default, durable settings) or on DATABASE_URL's server.
 * `drop()` removes the database, and the embedded server with its files.
 */
export async function openBenchDatabase(log: (message: string) => void): Promise<BenchDatabase> {
  let adminUrl: string;
  let stopServer = async () => undefined as void;
  let server: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
    server = 'DATABASE_URL';
  } else {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-bench-'));
    // Durable defaults, as `npm start` runs it; commit timestamps on so the projection lag is
    // measured from the commit, not from the transaction's start; pg_stat_statements to count
    // and time the statements each request costs.
    const embedded = await startEmbeddedPostgres({
      dataDir,
      database: 'postgres',
      settings: { max_connections: 200, track_commit_timestamp: 'on', shared_preload_libraries: 'pg_stat_statements' },
    });
    adminUrl = embedded.adminUrl;
    server = 'embedded PostgreSQL';
    stopServer = async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  }

  const name = `accountable_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  log(`database ${name} on ${server}`);

  const pool = createPool(url, { max: 4, applicationName: 'accountable-bench' });
  const db = createKysely(createPool(url, { max: 1 }));
  await migrateToLatest(db);
  await db.destroy();

  const settings: Record<string, string> = {};
  for (const setting of ['fsync', 'synchronous_commit', 'shared_buffers', 'max_connections', 'track_commit_timestamp']) {
    settings[setting] = (await pool.query(`SHOW ${setting}`)).rows[0][setting];
  }
  const postgresVersion = (await pool.query<{ v: string }>('SELECT version() AS v')).rows[0].v;
  const backend = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const postmasterPid = parentPid(backend);
  const statementStats = await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements').then(
    () => pool.query('SELECT 1 FROM pg_stat_statements LIMIT 1').then(() => true),
    () => false,
  ).catch(() => false);

  return {
    url,
    name,
    server,
    pool,
    settings,
    postgresVersion,
    commitTimestamps: settings.track_commit_timestamp === 'on',
    statementStats,
    postmasterPid,
    async drop() {
      await pool.end().catch(() => undefined);
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      await a.end();
      await stopServer();
    },
  };
}
