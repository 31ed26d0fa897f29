import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import baseGlobalSetup from '../../support/global-setup';
import { parseProfile } from './profile';

/** The same PostgreSQL and template as `npm test`, plus a folder where each test leaves its figures. */
export default async function globalSetup(): Promise<void> {
  const profile = parseProfile(process.env.RELIABILITY_PROFILE);
  await baseGlobalSetup();
  process.env.RELIABILITY_RESULTS_DIR = await mkdtemp(path.join(tmpdir(), 'accountable-reliability-'));
  process.env.RELIABILITY_STARTED_AT = String(Date.now());
  const client = new pg.Client({ connectionString: process.env.ACCOUNTABLE_TEST_ADMIN_URL });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  process.env.RELIABILITY_SERVER = `PostgreSQL ${rows[0].server_version.split(' ')[0]} (${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded'})`;
  console.log(`[reliability] profile ${profile}`);
}
