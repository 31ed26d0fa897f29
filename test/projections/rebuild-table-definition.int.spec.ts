import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore, type FeedPosition, ProjectionAdmin, type RebuildableProjection } from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, rowsOf } from './rebuild.helpers';

/**
 * The rebuild swaps tables instead of copying rows: what it puts in place must be the table the
 * migrations made, with the privileges a deployment granted on it, and it must refuse rather
 * than leave anything pointing at the table it drops.
 */
describe('a rebuilt table is the migrated table', () => {
  let t: TestDatabase;
  let fresh: TestDatabase;
  let store: EventStore;
  const role = `accountable_t_app_${randomBytes(4).toString('hex')}`;
  const projections: RebuildableProjection[] = [new AccountReadModelProjection(), new AuditHistoryProjection()];
  const tables = projections.flatMap((p) => p.tables);

  /** The application role's grants as README "Deploying" has them, plus a column grant. */
  const grant = async (db: Kysely<Database>) => {
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON account_read_model, audit_history TO ${sql.id(role)}`.execute(db);
    await sql`GRANT REFERENCES (sid) ON audit_history TO ${sql.id(role)}`.execute(db);
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    fresh = await createTestDatabase();
    await sql`CREATE ROLE ${sql.id(role)} NOLOGIN`.execute(t.db);
    await grant(t.db);
    await grant(fresh.db);
    store = new EventStore(t.db);
    await appendAccounts(store, 4);
  });
  afterAll(async () => {
    await t.destroy();
    await fresh.destroy();
    const admin = await createTestDatabase();
    await sql`DROP ROLE IF EXISTS ${sql.id(role)}`.execute(admin.db);
    await admin.destroy();
  });

  const oid = async (db: Kysely<Database>, table: string) =>
    (await sql<{ oid: number }>`SELECT ${`public.${table}`}::regclass::oid AS oid`.execute(db)).rows[0].oid;

  /** Read from the catalog independently of the rebuild's own comparison. */
  async function catalog(db: Kysely<Database>, table: string): Promise<string[]> {
    const { rows } = await sql<{ item: string }>`
      SELECT 'column ' || ordinal_position || ' ' || column_name || ' ' || data_type || ' nullable ' || is_nullable || ' default ' || coalesce(column_default, '-') AS item
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ${table}
      UNION ALL
      SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ${table}
      UNION ALL
      SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ${`public.${table}`}::regclass
      UNION ALL
      SELECT 'owner ' || tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = ${table}
      UNION ALL
      SELECT 'privilege ' || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END || ' ' || a.privilege_type || ' by ' || a.grantor::regrole
        FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = ${`public.${table}`}::regclass
      UNION ALL
      SELECT 'column privilege ' || att.attname || ' ' || a.grantee::regrole || ' ' || a.privilege_type
        FROM pg_attribute att, aclexplode(att.attacl) a WHERE att.attrelid = ${`public.${table}`}::regclass
      UNION ALL
      SELECT 'trigger ' || tgname FROM pg_trigger WHERE tgrelid = ${`public.${table}`}::regclass
      ORDER BY 1`.execute(db);
    return rows.map((row) => row.item);
  }

  it('has the columns, indexes, constraints, owner and privileges of a freshly migrated table', async () => {
    for (const projection of projections) {
      const [table] = projection.tables;
      const before = await oid(t.db, table);
      await new ProjectionAdmin(t.db, store).rebuild(projection, 25);
      expect(await oid(t.db, table)).not.toBe(before); // swapped, not copied
      const expected = await catalog(fresh.db, table);
      expect(expected.filter((item) => item.startsWith('index ')).length).toBeGreaterThan(1);
      expect(expected.some((item) => item.includes(role))).toBe(true);
      expect(await catalog(t.db, table)).toEqual(expected);
    }
  });

  it('leaves nothing behind: no rebuilt copy, no replaced table', async () => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('rebuild', 'rebuild_retired')`.execute(t.db);
    expect(rows[0].n).toBe(0);
  });

  it.each(tables)('refuses to swap %s while a view depends on it, and changes nothing', async (table) => {
    const projection = projections.find((p) => p.tables.includes(table))!;
    await sql`CREATE VIEW rebuild_test_view AS SELECT sid FROM ${sql.table(table)}`.execute(t.db);
    try {
      const rows = await rowsOf(t.db, table);
      const before = await oid(t.db, table);
      await expect(new ProjectionAdmin(t.db, store).rebuild(projection, 25)).rejects.toMatchObject({ name: 'ShadowMismatchError' });
      expect(await oid(t.db, table)).toBe(before);
      expect(await rowsOf(t.db, table)).toEqual(rows);
      expect((await sql`SELECT * FROM rebuild_test_view`.execute(t.db)).rows).toHaveLength(rows.length);
    } finally {
      await sql`DROP VIEW rebuild_test_view`.execute(t.db);
    }
  });

  it('carries over a grant made while it rebuilt', async () => {
    const projection = projections[1];
    const [table] = projection.tables;
    let granted = false;
    // Granted once the rebuild has copied the live table, on the live table.
    const granting = new (class extends EventStore {
      override async feedHead(...args: Parameters<EventStore['feedHead']>): Promise<FeedPosition> {
        if (!granted) {
          granted = true;
          await sql`GRANT TRUNCATE ON ${sql.table(table)} TO ${sql.id(role)}`.execute(t.db);
        }
        return super.feedHead(...args);
      }
    })(t.db);
    await new ProjectionAdmin(t.db, granting).rebuild(projection, 10);
    expect(granted).toBe(true);
    const { rows } = await sql<{ truncate: boolean }>`SELECT has_table_privilege(${role}, ${table}, 'TRUNCATE') AS truncate`.execute(t.db);
    expect(rows[0].truncate).toBe(true);
    await sql`REVOKE TRUNCATE ON ${sql.table(table)} FROM ${sql.id(role)}`.execute(t.db);
  });
});
