import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createKysely, createPool, ensureAppRole, migrateToLatest, startEmbeddedPostgres } from '../../libs/database/src';
import { binaries, isAlive, serverUser } from '../../libs/database/src/embedded-postgres';
import { CHROMIUM_MISSING, CHROMIUM_PATH, hasChromium } from './browser';

const EMBEDDED_PREFIX = 'accountable-test-';

/**
 * One PostgreSQL for the whole run: DATABASE_URL's server if set, else a throwaway embedded
 * one. A template database is migrated once; every test file clones it (see test-database.ts).
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  let adminUrl: string;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    await sweepOrphans();
    const dataDir = await mkdtemp(path.join(tmpdir(), EMBEDDED_PREFIX));
    await writeFile(path.join(dataDir, 'owner.pid'), String(process.pid));
    const embedded = await startEmbeddedPostgres({
      dataDir,
      database: 'postgres',
      // Throwaway data: durability buys nothing here and costs seconds.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: 300 },
    });
    (globalThis as Record<string, unknown>).__ACCOUNTABLE_EMBEDDED__ = embedded;
    process.env.ACCOUNTABLE_TEST_EMBEDDED_DIR = dataDir;
    adminUrl = embedded.adminUrl;
  }
  const template = `accountable_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  await admin.end();

  const pool = createPool(withDatabase(adminUrl, template), { max: 1 });
  const db = createKysely(pool);
  await migrateToLatest(db);
  // The services under test connect as an application role, as the embedded default does: the
  // template's grants to it are copied into every database cloned from it.
  const appRole = { name: `accountable_app_${runId}`, password: randomBytes(18).toString('hex') };
  await ensureAppRole(db, appRole);
  await db.destroy();
  process.env.ACCOUNTABLE_TEST_APP_ROLE = appRole.name;
  process.env.ACCOUNTABLE_TEST_APP_PASSWORD = appRole.password;

  process.env.ACCOUNTABLE_TEST_ADMIN_URL = adminUrl;
  process.env.ACCOUNTABLE_TEST_TEMPLATE = template;
  process.env.ACCOUNTABLE_TEST_RUN_ID = runId;
  console.log(`\n[test] PostgreSQL: ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'} (${await serverVersion(adminUrl)})`);
  console.log(hasChromium() ? `[test] browser tests: Chromium at ${CHROMIUM_PATH}` : `[test] browser tests SKIPPED: ${CHROMIUM_MISSING}`);
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return `PostgreSQL ${rows[0].server_version}`;
}

/**
 * A run killed before its teardown leaves its embedded server running in its temporary
 * directory. Each run records its own pid there; a directory whose run is gone is stopped and
 * removed. Directories of runs still alive (parallel runs) are left alone.
 */
async function sweepOrphans(): Promise<void> {
  const entries = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => e.startsWith(EMBEDDED_PREFIX))) {
    const dir = path.join(tmpdir(), entry);
    const owner = Number(await readFile(path.join(dir, 'owner.pid'), 'utf8').catch(() => 'NaN'));
    if (!Number.isInteger(owner) || isAlive(owner)) continue;
    const pgData = path.join(dir, 'pg');
    if (existsSync(path.join(pgData, 'postmaster.pid'))) {
      spawnSync(binaries().pg_ctl, ['stop', '-w', '-t', '30', '-m', 'immediate', '-D', pgData], { ...(await serverUser()), stdio: 'ignore' });
    }
    await rm(dir, { recursive: true, force: true });
  }
}
