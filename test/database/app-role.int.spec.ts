import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { APP_ROLE_GRANTS, NOT_GRANTED, ensureAppRole, expectedGrants, grantsOf } from '@accountable/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The role the embedded default serves as: made idempotently at every start, exactly the listed
 * grants, nothing owned, no membership; a privilege added by hand is taken back at the next start.
 * Roles belong to the server, so this file uses a role name of its own.
 */
describe('application role', () => {
  let database: TestDatabase;
  const role = { name: `accountable_app_${randomBytes(4).toString('hex')}`, password: randomBytes(18).toString('hex') };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await sql`DROP OWNED BY ${sql.id(role.name)}`.execute(database.db).catch(() => undefined);
    await database?.destroy();
    const server = new pg.Client({ connectionString: process.env.ACCOUNTABLE_TEST_ADMIN_URL });
    await server.connect();
    await server.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role.name)}`);
    await server.end();
  });

  it('every table of the schema is either granted to the role or listed as not granted (a new table must say which)', async () => {
    const { rows } = await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`.execute(database.db);
    const undeclared = rows.map((r) => r.name).filter((t) => !(t in APP_ROLE_GRANTS.tables) && !(t in NOT_GRANTED));
    expect(undeclared).toEqual([]);
    const missing = Object.keys(APP_ROLE_GRANTS.tables).filter((t) => !rows.some((r) => r.name === t));
    expect(missing).toEqual([]);
  });

  it('is made with exactly the listed grants, owns nothing, is no superuser, and logs in with its password', async () => {
    await ensureAppRole(database.db, role);
    expect(await grantsOf(database.db, role.name)).toEqual(expectedGrants());
    const { rows } = await sql<Record<string, unknown>>`
      SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls, r.rolcanlogin,
             (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) + (SELECT count(*)::int FROM pg_proc WHERE proowner = r.oid)
               + (SELECT count(*)::int FROM pg_namespace WHERE nspowner = r.oid) + (SELECT count(*)::int FROM pg_database WHERE datdba = r.oid) AS owns,
             (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
        FROM pg_roles r WHERE r.rolname = ${role.name}`.execute(database.db);
    expect(rows[0]).toEqual({ rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolreplication: false, rolbypassrls: false, rolcanlogin: true, owns: 0, memberships: 0 });
    const u = new URL(database.url);
    u.username = role.name;
    u.password = role.password;
    const client = new pg.Client({ connectionString: u.toString() });
    await client.connect();
    try {
      expect((await client.query('SELECT current_user AS who')).rows[0].who).toBe(role.name);
      await expect(client.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied/);
      await expect(client.query('UPDATE events SET type = type')).rejects.toThrow(/permission denied for table events/);
    } finally {
      await client.end();
    }
  });

  it('a later start takes back what was granted by hand and is a no-op otherwise, also when several start at once', async () => {
    await sql`GRANT UPDATE, DELETE, TRUNCATE ON events TO ${sql.id(role.name)}`.execute(database.db);
    await sql`GRANT SELECT (one) ON event_clock TO ${sql.id(role.name)}`.execute(database.db);
    await sql`GRANT CREATE ON SCHEMA public TO ${sql.id(role.name)}`.execute(database.db);
    await sql`GRANT pg_write_all_data TO ${sql.id(role.name)}`.execute(database.db);
    expect(await grantsOf(database.db, role.name)).not.toEqual(expectedGrants());
    await Promise.all([1, 2, 3].map(() => ensureAppRole(database.db, role)));
    expect(await grantsOf(database.db, role.name)).toEqual(expectedGrants());
    const memberships = await sql`SELECT 1 FROM pg_auth_members WHERE member = ${role.name}::regrole`.execute(database.db);
    expect(memberships.rows).toEqual([]);
    await ensureAppRole(database.db, role);
    expect(await grantsOf(database.db, role.name)).toEqual(expectedGrants());
  });
});
