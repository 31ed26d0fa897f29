import { sql } from 'kysely';
import { createKysely, createPool, PREPARED } from '@accountable/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** Statements marked PREPARED go out as named statements: parsed and planned once per connection. */
describe('createKysely: named statements', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.destroy());

  it('prepares a marked statement once on its connection, and leaves the others unnamed', async () => {
    const db = createKysely(createPool(t.url, { max: 1 }));
    try {
      const marked = (n: number) => sql<{ n: number }>`SELECT ${n}::int + 1 AS n${PREPARED}`.execute(db);
      expect((await marked(1)).rows).toEqual([{ n: 2 }]);
      expect((await marked(41)).rows).toEqual([{ n: 42 }]);
      await sql`SELECT 2 AS unmarked`.execute(db);
      const prepared = await sql<{ name: string; statement: string }>`SELECT name, statement FROM pg_prepared_statements`.execute(db);
      expect(prepared.rows).toHaveLength(1);
      expect(prepared.rows[0].statement).toBe('SELECT $1::int + 1 AS n/* prepared */');
      expect(prepared.rows[0].name).toMatch(/^accountable_\d+$/);
    } finally {
      await db.destroy();
    }
  });

  it('a kysely builder query is marked with modifyEnd', async () => {
    const db = createKysely(createPool(t.url, { max: 1 }));
    try {
      const rows = await db.selectFrom('streams').select(['stream_id']).where('stream_id', '=', 'none').modifyEnd(PREPARED).execute();
      expect(rows).toEqual([]);
      const prepared = await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(db);
      expect(prepared.rows.map((r) => r.statement)).toEqual([expect.stringMatching(/from "streams" where "stream_id" = \$1 \/\* prepared \*\/$/)]);
    } finally {
      await db.destroy();
    }
  });

  it('a prepared statement reads the table that replaced its own (the blue-green switch of a rebuild)', async () => {
    const db = createKysely(createPool(t.url, { max: 1 }));
    try {
      const find = () => db.selectFrom('account_read_model').select(['sid', 'friendly_name']).where('sid', 'in', ['AC1']).modifyEnd(PREPARED).execute();
      expect(await find()).toEqual([]);
      await sql`CREATE TABLE account_read_model_next (LIKE account_read_model INCLUDING ALL)`.execute(t.db);
      await sql`INSERT INTO account_read_model_next (sid, owner_account_sid, is_main, friendly_name, type, status, auth_token, date_created, date_updated, version)
                VALUES ('AC1', 'AC1', true, 'rebuilt', 'Full', 'active', 'sealed', now(), now(), 1)`.execute(t.db);
      await t.db.transaction().execute(async (trx) => {
        await sql`ALTER TABLE account_read_model RENAME TO account_read_model_old`.execute(trx);
        await sql`ALTER TABLE account_read_model_next RENAME TO account_read_model`.execute(trx);
      });
      expect(await find()).toEqual([{ sid: 'AC1', friendly_name: 'rebuilt' }]);
    } finally {
      await db.destroy();
    }
  });
});
