import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandBus } from '@nestjs/cqrs';
import pg from 'pg';
import { CreateMainAccountCommand, OPERATOR } from '@accountable/accounts';
import { loadConfig } from '@accountable/config';
import { ensureAppRole, expectedGrants, grantsOf } from '@accountable/database';
import { openRuntime, type Runtime } from '@accountable/platform';
import { createApiApp } from '../../apps/api/src/app.factory';
import { up as revokeFromPublic } from '../../db/migrations/0005_events_privileges';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeOutcome, send } from './support/http';
import { recordResult } from './support/results';

const ATTACKS = [
  ['UPDATE one event', `UPDATE events SET data = '{"authToken": "forged"}' WHERE stream_version = 1`],
  ['UPDATE every event', 'UPDATE events SET type = type'],
  ['DELETE one event', 'DELETE FROM events WHERE global_position = (SELECT max(global_position) FROM events)'],
  ['DELETE every event', 'DELETE FROM events'],
  ['TRUNCATE', 'TRUNCATE events'],
  ['TRUNCATE … CASCADE', 'TRUNCATE events RESTART IDENTITY CASCADE'],
] as const;

const UNDERMINE = [
  ['disable the trigger', 'ALTER TABLE events DISABLE TRIGGER events_no_update_delete'],
  ['disable every trigger', 'ALTER TABLE events DISABLE TRIGGER ALL'],
  ['drop the trigger', 'DROP TRIGGER events_no_truncate ON events'],
  ['skip triggers (replica role)', 'SET session_replication_role = replica'],
  ['replace the trigger function', `CREATE OR REPLACE FUNCTION events_are_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$`],
] as const;

/**
 * The event log is append-only for everyone. A role with exactly what the application needs (and
 * the service running on it, to prove that is enough) cannot UPDATE, DELETE or TRUNCATE `events`
 * — refused by privileges (migration 0005) — nor switch the trigger off; the owner and a superuser,
 * who could, still hit the trigger on every one of those statements. Nothing changes either way.
 */
describe('immutability of the event log, also for the application role', () => {
  let database: TestDatabase;
  let admin: pg.Client;
  const role = `accountable_app_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('hex');
  let roleUrl: string;
  let runtime: Runtime | undefined;
  let app: Awaited<ReturnType<typeof createApiApp>> | undefined;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-immutability-'));
    admin = await database.client();
    // What the embedded default makes, and the README tells a deployment to grant: the
    // migrations ran as the owner.
    await ensureAppRole(database.db, { name: role, password });
    const u = new URL(database.url);
    u.username = role;
    u.password = password;
    roleUrl = u.toString();
  });
  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    await database?.destroy();
    // Roles belong to the server, not the database: drop it once its database is gone.
    const server = new pg.Client({ connectionString: process.env.ACCOUNTABLE_TEST_ADMIN_URL });
    await server.connect();
    await server.query(`DROP ROLE IF EXISTS ${role}`);
    await server.end();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('UPDATE, DELETE, TRUNCATE fail for the application role (privileges) and for the owner (trigger); nothing changes', async () => {
    const figures = { roles: 2, 'statements tried': 0, refused: 0 };
    let held = '';
    try {
      // The service runs on the application role: it can do its whole job with these grants.
      const config = loadConfig({ DATABASE_URL: roleUrl, DATA_DIR: dataDir, ENCRYPTION_KEY: randomBytes(32).toString('hex'), PROJECTION_POLL_MS: '50' });
      runtime = await openRuntime(config);
      app = await createApiApp(runtime, { openApi: false, logger: false });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
      const main = await app.get(CommandBus).execute(new CreateMainAccountCommand('Immutable', 'Full', OPERATOR));
      const created = await send(baseUrl, '/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: 'kept' } });
      expect(describeOutcome(created)).toMatch(/^201 /);
      const sub = (created as any).json.sid;
      expect(describeOutcome(await send(baseUrl, `/2010-04-01/Accounts/${sub}.json`, { as: main, body: { FriendlyName: 'kept renamed', Status: 'suspended' } }))).toMatch(/^200 /);
      const deadline = Date.now() + 10_000;
      while (Number((await admin.query('SELECT count(*) AS n FROM audit_history')).rows[0].n) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

      const snapshot = async () => (await admin.query('SELECT t::text AS row FROM events t ORDER BY global_position')).rows.map((r) => r.row);
      const before = await snapshot();
      expect(before.length).toBe(5);

      const appRole = new pg.Client({ connectionString: roleUrl });
      await appRole.connect();
      try {
        const refusals: string[] = [];
        const attempt = async (client: pg.Client, who: string, what: string, statement: string, expected: RegExp) => {
          figures['statements tried']++;
          await client.query('BEGIN');
          try {
            await client.query(statement);
            refusals.push(`${who}: ${what} SUCCEEDED`);
          } catch (error) {
            const e = error as { code?: string; message: string };
            if (!expected.test(e.message)) refusals.push(`${who}: ${what} refused for another reason: ${e.code} ${e.message}`);
            else figures.refused++;
          } finally {
            await client.query('ROLLBACK');
          }
        };
        for (const [what, statement] of ATTACKS) await attempt(appRole, 'application role', what, statement, /permission denied for table events/);
        for (const [what, statement] of UNDERMINE) {
          await attempt(appRole, 'application role', what, statement, /must be owner|permission denied/);
        }
        // A GRANT by a role without the grant option is only a warning, and grants nothing.
        await attempt(appRole, 'application role', 'UPDATE after its own GRANT', `GRANT UPDATE ON events TO CURRENT_USER; UPDATE events SET type = type`, /permission denied for table events/);
        // The owner (a superuser here) has every privilege, and the trigger still refuses.
        for (const [what, statement] of ATTACKS) await attempt(admin, 'owner/superuser', what, statement, /the event log is append-only/);
        expect(refusals).toEqual([]);
      } finally {
        await appRole.end();
      }
      expect(await snapshot()).toEqual(before);

      // The application role is not a superuser and owns nothing it could switch off.
      const { rows } = await admin.query(
        `SELECT r.rolsuper, r.rolbypassrls, c.relowner = r.oid AS owns_events, has_table_privilege(r.rolname, 'events', 'UPDATE') AS can_update,
                has_table_privilege('public', 'events', 'UPDATE,DELETE,TRUNCATE') AS public_can_change
           FROM pg_roles r, pg_class c WHERE r.rolname = $1 AND c.relname = 'events'`,
        [role],
      );
      expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owns_events: false, can_update: false, public_can_change: false });
      expect(await grantsOf(database.db, role)).toEqual(expectedGrants());
      // The migration's REVOKE undoes a GRANT ... TO PUBLIC made by hand (which would reach the app role).
      await admin.query('GRANT UPDATE, DELETE, TRUNCATE ON events TO PUBLIC');
      expect((await admin.query(`SELECT has_table_privilege($1, 'events', 'UPDATE') AS can`, [role])).rows[0].can).toBe(true);
      await revokeFromPublic(database.db);
      expect((await admin.query(`SELECT has_table_privilege($1, 'events', 'UPDATE,DELETE,TRUNCATE') AS can`, [role])).rows[0].can).toBe(false);
      // And still serves after the attempts.
      expect(describeOutcome(await send(baseUrl, `/2010-04-01/Accounts/${sub}.json`, { as: main }))).toMatch(/^200 /);
      held = 'app role: permission denied, trigger untouchable; owner: trigger refuses; log unchanged; service works on the app role';
    } finally {
      recordResult({ item: 8, title: 'Immutability (app role and owner)', figures, held });
    }
  }, 60_000);
});
