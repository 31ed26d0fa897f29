import { sql } from 'kysely';
import { EventStore, type FeedPosition, ProjectionAdmin, type RebuildableProjection } from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, rowsOf } from './rebuild.helpers';

/**
 * One rebuild per projection at a time, each in schemas of its own, dropping only what it made.
 * test/reliability/concurrent-rebuilds.spec.ts races them at every phase; here, the rules one by one.
 */
describe('rebuilds are serialised per projection and keep to their own tables', () => {
  let t: TestDatabase;
  let store: EventStore;
  const accounts = new AccountReadModelProjection();
  const audit = new AuditHistoryProjection();

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    await appendAccounts(store, 3);
    for (const projection of [accounts, audit]) await new ProjectionAdmin(t.db, store).rebuild(projection);
  });
  afterAll(() => t.destroy());

  const schemasLike = async (pattern: string) =>
    (await sql<{ name: string }>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE ${pattern} ORDER BY 1`.execute(t.db)).rows.map((r) => r.name);

  /** A store whose second feedHead (the catch-up right before the switch) waits for `before`. */
  const pausingBeforeSwitch = (beforeSwitch: () => Promise<void>) => {
    let heads = 0;
    return new (class extends EventStore {
      override async feedHead(...args: Parameters<EventStore['feedHead']>): Promise<FeedPosition> {
        const head = await super.feedHead(...args);
        if (++heads === 2) await beforeSwitch();
        return head;
      }
    })(t.db);
  };

  it('refuses a second rebuild of the same projection at once, naming it and the session that runs the first; another projection rebuilds meanwhile', async () => {
    const live = await rowsOf(t.db, 'account_read_model');
    let second: Promise<unknown> | undefined;
    let other: Promise<unknown> | undefined;
    const first = new ProjectionAdmin(
      t.db,
      pausingBeforeSwitch(async () => {
        second = new ProjectionAdmin(t.db, store).rebuild(accounts).catch((error: Error) => error);
        other = new ProjectionAdmin(t.db, store).rebuild(audit);
        await second;
        await other;
      }),
    ).rebuild(accounts);
    await first;
    const refused = (await second) as Error;
    expect(refused.name).toBe('RebuildInProgressError');
    expect(refused.message).toMatch(/^a rebuild of projection "accounts" is already running \(PostgreSQL session \d+/);
    await expect(other).resolves.toBeDefined();
    expect(await rowsOf(t.db, 'account_read_model')).toEqual(live);
    expect(await schemasLike('rebuild%')).toEqual([]);
  });

  it('refuses while a rebuild in another process holds the lock, and runs once it is gone', async () => {
    const other = await t.client();
    // What a rebuild's session holds (libs/event-store/src/projections/admin/rebuild-lock.ts).
    await other.query(`SELECT pg_advisory_lock(${0x41435242}, hashtext('audit'))`);
    const pid = (await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await expect(new ProjectionAdmin(t.db, store).rebuild(audit)).rejects.toMatchObject({
      name: 'RebuildInProgressError',
      message: expect.stringContaining(`"audit" is already running (PostgreSQL session ${pid}`),
    });
    await other.query(`SELECT pg_advisory_unlock(${0x41435242}, hashtext('audit'))`);
    await expect(new ProjectionAdmin(t.db, store).rebuild(audit)).resolves.toBeDefined();
  });

  it('clears what a crashed rebuild of the projection left, and nothing else', async () => {
    const live = await rowsOf(t.db, 'account_read_model');
    const mark = (projection: string) => `accountable: rebuild of projection ${JSON.stringify(projection)}`;
    // A dead rebuild of accounts: its shadow (loaded, partially) and its retired schema.
    await sql`CREATE SCHEMA rebuild_accounts_dead01`.execute(t.db);
    await sql`COMMENT ON SCHEMA rebuild_accounts_dead01 IS ${sql.lit(mark('accounts'))}`.execute(t.db);
    await sql`CREATE TABLE rebuild_accounts_dead01.account_read_model (LIKE public.account_read_model)`.execute(t.db);
    await sql`CREATE SCHEMA rebuild_accounts_dead01_retired`.execute(t.db);
    await sql`COMMENT ON SCHEMA rebuild_accounts_dead01_retired IS ${sql.lit(mark('accounts'))}`.execute(t.db);
    // An earlier version's fixed shadow schema, with this projection's table and another's.
    await sql`CREATE SCHEMA IF NOT EXISTS rebuild`.execute(t.db);
    await sql`CREATE TABLE rebuild.account_read_model (LIKE public.account_read_model)`.execute(t.db);
    await sql`CREATE TABLE rebuild.audit_history (LIKE public.audit_history)`.execute(t.db);
    // Not ours to drop: audit's leftovers (audit's next rebuild clears them), an unmarked schema.
    await sql`CREATE SCHEMA rebuild_audit_dead02`.execute(t.db);
    await sql`COMMENT ON SCHEMA rebuild_audit_dead02 IS ${sql.lit(mark('audit'))}`.execute(t.db);
    await sql`CREATE TABLE rebuild_audit_dead02.audit_history (LIKE public.audit_history)`.execute(t.db);
    await sql`CREATE SCHEMA rebuild_someone_elses`.execute(t.db);
    await sql`CREATE TABLE rebuild_someone_elses.account_read_model (LIKE public.account_read_model)`.execute(t.db);

    await new ProjectionAdmin(t.db, store).rebuild(accounts);
    expect(await rowsOf(t.db, 'account_read_model')).toEqual(live);
    expect(await schemasLike('rebuild%')).toEqual(['rebuild', 'rebuild_audit_dead02', 'rebuild_someone_elses']);
    const tables = await sql<{ name: string }>`
      SELECT table_schema || '.' || table_name AS name FROM information_schema.tables WHERE table_schema LIKE 'rebuild%' ORDER BY 1`.execute(t.db);
    expect(tables.rows.map((r) => r.name)).toEqual(['rebuild.audit_history', 'rebuild_audit_dead02.audit_history', 'rebuild_someone_elses.account_read_model']);

    await new ProjectionAdmin(t.db, store).rebuild(audit);
    expect(await schemasLike('rebuild%')).toEqual(['rebuild', 'rebuild_someone_elses']);
    await sql`DROP SCHEMA rebuild_someone_elses CASCADE`.execute(t.db);
    await sql`DROP SCHEMA rebuild`.execute(t.db);
  });

  it.each([
    ['accounts', accounts],
    ['audit', audit],
  ] as [string, RebuildableProjection][])('%s: refuses to switch a shadow that is not the table it loaded, changing nothing', async (_name, projection) => {
    const [table] = projection.tables;
    const live = await rowsOf(t.db, table);
    const oid = async () => (await sql<{ oid: number }>`SELECT ${`public.${table}`}::regclass::oid::int AS oid`.execute(t.db)).rows[0].oid;
    const liveOid = await oid();
    // Right before the switch, the loaded shadow is replaced by an empty table of the same name and shape.
    const replacing = pausingBeforeSwitch(async () => {
      const [schema] = (await sql<{ name: string }>`
        SELECT n.nspname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relname = ${table} AND n.nspname LIKE 'rebuild%' AND n.nspname NOT LIKE '%_retired'`.execute(t.db)).rows;
      await sql`ALTER TABLE ${sql.id(schema.name, table)} RENAME TO loaded`.execute(t.db);
      await sql`CREATE TABLE ${sql.id(schema.name, table)} (LIKE ${sql.id(schema.name, 'loaded')} INCLUDING ALL)`.execute(t.db);
      await sql`DROP TABLE ${sql.id(schema.name, 'loaded')}`.execute(t.db);
    });
    await expect(new ProjectionAdmin(t.db, replacing).rebuild(projection)).rejects.toMatchObject({ name: 'ShadowReplacedError' });
    expect(await oid()).toBe(liveOid);
    expect(await rowsOf(t.db, table)).toEqual(live);
    expect(await schemasLike('rebuild%')).toEqual([]);
  });
});
