import { rm } from 'node:fs/promises';
import pg from 'pg';
import type { EmbeddedPostgres } from '../../libs/database/src';

/** Drops this run's databases and role (the system server is shared) and stops the embedded server. */
export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.ACCOUNTABLE_TEST_ADMIN_URL;
  const runId = process.env.ACCOUNTABLE_TEST_RUN_ID;
  const embedded = (globalThis as Record<string, unknown>).__ACCOUNTABLE_EMBEDDED__ as EmbeddedPostgres | undefined;
  if (adminUrl && runId && !embedded) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1 OR datname LIKE $2`,
      [`accountable_tpl_${runId}`, `accountable_t_${runId}_%`],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    // The run's application role (global-setup), once no database of the run holds grants to it.
    const appRole = process.env.ACCOUNTABLE_TEST_APP_ROLE;
    if (appRole) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(appRole)}`).catch(() => undefined);
    await admin.end();
  }
  if (embedded) {
    await embedded.stop();
    if (process.env.ACCOUNTABLE_TEST_EMBEDDED_DIR) await rm(process.env.ACCOUNTABLE_TEST_EMBEDDED_DIR, { recursive: true, force: true });
  }
}
