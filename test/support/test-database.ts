import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { createKysely, createPool, type Database } from '@accountable/database';

export interface TestDatabase {
  name: string;
  /** As a superuser (the owner): for set-up and assertions. */
  url: string;
  /** As the run's application role (owns nothing, exactly the application's grants): for the service under test. */
  appUrl: string;
  pool: pg.Pool;
  db: Kysely<Database>;
  /** A fresh pg.Client on this database (for tests that hold a transaction open). */
  client(): Promise<pg.Client>;
  destroy(): Promise<void>;
}

/** A private database for one test file, cloned from the migrated template. */
export async function createTestDatabase(options: { max?: number } = {}): Promise<TestDatabase> {
  const adminUrl = required('ACCOUNTABLE_TEST_ADMIN_URL');
  const template = required('ACCOUNTABLE_TEST_TEMPLATE');
  const name = `accountable_t_${required('ACCOUNTABLE_TEST_RUN_ID')}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  u.username = required('ACCOUNTABLE_TEST_APP_ROLE');
  u.password = required('ACCOUNTABLE_TEST_APP_PASSWORD');
  const appUrl = u.toString();
  const pool = createPool(url, { max: options.max ?? 20 });
  const db = createKysely(pool);
  const clients: pg.Client[] = [];
  return {
    name,
    url,
    appUrl,
    pool,
    db,
    async client() {
      const c = new pg.Client({ connectionString: url });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    },
    async destroy() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await db.destroy();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through jest (npm test), whose global setup sets it`);
  return value;
}
