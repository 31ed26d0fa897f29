import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { EventStore } from '@accountable/event-store';
import * as m0009 from '../../db/migrations/0009_recorded_at_after_lock';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Migration 0009 on a database that already holds events and a deployment's grants: it records
 * where the new clock takes effect and keeps the privileges granted on append_to_stream.
 */
describe('migration 0009 (recorded_at after the stream lock)', () => {
  let t: TestDatabase;
  let store: EventStore;
  const role = `accountable_t_appender_${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    t = await createTestDatabase();
    // Back to PostgreSQL's default privileges: without the grants the template gives the run's
    // application role (DROP OWNED BY also revokes what was granted to a role, here only).
    await sql`DROP OWNED BY ${sql.id(process.env.ACCOUNTABLE_TEST_APP_ROLE!)}`.execute(t.db);
    store = new EventStore(t.db);
    await sql`CREATE ROLE ${sql.id(role)} NOLOGIN`.execute(t.db);
  });
  afterAll(async () => {
    await t.destroy();
    const server = new pg.Client({ connectionString: process.env.ACCOUNTABLE_TEST_ADMIN_URL });
    await server.connect();
    await server.query(`DROP ROLE IF EXISTS ${role}`);
    await server.end();
  });

  // In a transaction, as the migrator runs it (its LOCK TABLE needs one).
  const up = () => t.db.transaction().execute((trx) => m0009.up(trx));
  const down = () => t.db.transaction().execute((trx) => m0009.down(trx));

  const privileges = async () =>
    (
      await sql<{ grantee: string; grantable: boolean }>`
        SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END AS grantee, a.is_grantable AS grantable
          FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
         WHERE p.oid = 'append_to_stream'::regproc AND a.grantee <> p.proowner ORDER BY 1`.execute(t.db)
    ).rows;

  it('with the default privileges (EXECUTE for PUBLIC), up leaves the defaults', async () => {
    await down();
    expect(await privileges()).toEqual([{ grantee: 'PUBLIC', grantable: false }]);
    await up();
    expect(await privileges()).toEqual([{ grantee: 'PUBLIC', grantable: false }]);
  });

  it('down and up again: the boundary is the last event stored before it, and the grants on append_to_stream survive', async () => {
    await down();
    // What the old function stores; then a deployment's privileges: no PUBLIC, one application role.
    await store.append('before-0009', [{ type: 'Happened', data: {} }, { type: 'Happened', data: {} }], 'no_stream');
    const { rows } = await sql<{ max: number }>`SELECT max(global_position)::int AS max FROM events`.execute(t.db);
    expect(rows[0].max).toBeGreaterThan(0);
    await sql`REVOKE EXECUTE ON FUNCTION append_to_stream FROM PUBLIC`.execute(t.db);
    await sql`GRANT EXECUTE ON FUNCTION append_to_stream TO ${sql.id(role)} WITH GRANT OPTION`.execute(t.db);
    const granted = await privileges();
    expect(granted).toEqual([{ grantee: role, grantable: true }]);

    await up();
    expect(await privileges()).toEqual(granted);
    const clock = await sql<{ position: number }>`SELECT monotonic_after_position::int AS position FROM event_clock`.execute(t.db);
    expect(clock.rows).toEqual([{ position: rows[0].max }]);
    const appended = await store.append('after-0009', [{ eventId: randomUUID(), type: 'Happened', data: {} }], 'no_stream');
    expect(appended.firstPosition).toBeGreaterThan(rows[0].max);
    expect(appended.recordedAt).toBeInstanceOf(Date);
  });
});
