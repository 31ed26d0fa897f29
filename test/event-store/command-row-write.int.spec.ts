import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * command_row_write (migration 0019): the per-table writer commit_command writes a command's rows
 * through, compiled from the catalog by install_command_row_write(). It must do what the dynamic
 * statements it replaced did: insert the given columns (defaults for the others), update only the
 * columns given, delete, match on every column named, and refuse what is not a column.
 */
describe('command_row_write', () => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await createTestDatabase();
    await sql`
      CREATE TABLE gadgets (
        id        text NOT NULL,
        part      integer NOT NULL,
        label     text,
        count     integer NOT NULL DEFAULT 7,
        tags      jsonb,
        at        timestamptz NOT NULL DEFAULT '2001-02-03T04:05:06Z',
        version   bigint NOT NULL,
        PRIMARY KEY (id, part)
      )`.execute(t.db);
    await sql`INSERT INTO command_row_tables (table_name) VALUES ('gadgets')`.execute(t.db);
    await sql`SELECT install_command_row_write()`.execute(t.db);
  });
  afterAll(() => t.destroy());

  const write = async (table: string, match: object | null, row: object | null) =>
    (await sql<{ n: number }>`SELECT command_row_write(${table}, ${match === null ? null : JSON.stringify(match)}::jsonb, ${row === null ? null : JSON.stringify(row)}::jsonb) AS n`.execute(t.db))
      .rows[0].n;
  const gadget = async (id: string, part = 1) =>
    (await sql<Record<string, unknown>>`SELECT id, part, label, count, tags, at, version FROM gadgets WHERE id = ${id} AND part = ${part}`.execute(t.db)).rows[0];
  const failure = (promise: Promise<unknown>) => promise.then(() => null, (error: { code?: string }) => error.code);

  it('inserts the columns given; a column left out takes its default, as an INSERT naming only the given ones', async () => {
    expect(await write('gadgets', null, { id: 'a', part: 1, label: 'first', tags: { x: [1, 'two'] }, version: 1 })).toBe(1);
    expect(await gadget('a')).toEqual({ id: 'a', part: 1, label: 'first', count: 7, tags: { x: [1, 'two'] }, at: new Date('2001-02-03T04:05:06Z'), version: 1 });
    expect(await write('gadgets', null, { id: 'a', part: 2, label: null, count: 0, at: '2026-12-05T18:02:36.419Z', version: 1 })).toBe(1);
    expect(await gadget('a', 2)).toMatchObject({ label: null, count: 0, at: new Date('2026-12-05T18:02:36.419Z') });
  });

  it('updates only the columns given, on the row whose key and every other named column match', async () => {
    await write('gadgets', null, { id: 'b', part: 1, label: 'before', count: 3, version: 1 });
    // The version named in the match does not hold: nothing written, and the caller is told so.
    expect(await write('gadgets', { id: 'b', part: 1, version: 5 }, { label: 'after', version: 6 })).toBe(0);
    // A null in the match is compared as IS NOT DISTINCT FROM: tags is null.
    expect(await write('gadgets', { id: 'b', part: 1, version: 1, tags: null }, { label: 'after', version: 2 })).toBe(1);
    expect(await gadget('b')).toMatchObject({ label: 'after', count: 3, version: 2 });
    // A column set to null is set to null.
    expect(await write('gadgets', { id: 'b', part: 1 }, { label: null })).toBe(1);
    expect(await gadget('b')).toMatchObject({ label: null, count: 3, version: 2 });
    // Another row with the same first key column is untouched.
    await write('gadgets', null, { id: 'b', part: 2, label: 'other', version: 1 });
    expect(await gadget('b', 2)).toMatchObject({ label: 'other', version: 1 });
  });

  it('deletes the row that matches, and only when it matches', async () => {
    await write('gadgets', null, { id: 'c', part: 1, version: 4 });
    expect(await write('gadgets', { id: 'c', part: 1, version: 3 }, null)).toBe(0);
    expect(await gadget('c')).toBeDefined();
    expect(await write('gadgets', { id: 'c', part: 1, version: 4 }, null)).toBe(1);
    expect(await gadget('c')).toBeUndefined();
  });

  it('finds the row by its primary key: an update or delete costs the same in a table of any size (no sequential scan)', async () => {
    // The dynamic statements of migration 0017 matched with IS NOT DISTINCT FROM alone, which no
    // index serves: every owner update of a create scanned all of account_read_model.
    await sql`INSERT INTO gadgets (id, part, version) SELECT 'bulk', g, 1 FROM generate_series(1, 20000) g`.execute(t.db);
    await sql`ANALYZE gadgets`.execute(t.db);
    const scans = async () => {
      await sql`SELECT pg_stat_force_next_flush()`.execute(t.db).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
      return (
        await t.db.connection().execute(async (db) => {
          await sql`SELECT pg_stat_clear_snapshot()`.execute(db);
          return sql<{ seq: string; idx: string }>`SELECT seq_scan::text AS seq, idx_scan::text AS idx FROM pg_stat_user_tables WHERE relname = 'gadgets'`.execute(db);
        })
      ).rows[0];
    };
    // One connection for the writes and the stats flush, so that what it did is counted.
    const before = await scans();
    await t.db.connection().execute(async (db) => {
      for (let part = 1; part <= 20; part++) {
        const n = (await sql<{ n: number }>`SELECT command_row_write('gadgets', ${JSON.stringify({ id: 'bulk', part, version: 1 })}::jsonb, '{"version": 2}'::jsonb) AS n`.execute(db)).rows[0].n;
        expect(n).toBe(1);
      }
      expect((await sql<{ n: number }>`SELECT command_row_write('gadgets', '{"id": "bulk", "part": 21}'::jsonb, NULL) AS n`.execute(db)).rows[0].n).toBe(1);
      await sql`SELECT pg_stat_force_next_flush()`.execute(db);
    });
    const after = await scans();
    expect(Number(after.seq)).toBe(Number(before.seq));
    expect(Number(after.idx) - Number(before.idx)).toBeGreaterThanOrEqual(21);
  });

  it('refuses a name that is not a column, a match without the whole primary key, and a table not listed', async () => {
    expect(await failure(write('gadgets', null, { id: 'd', part: 1, version: 1, colour: 'red' }))).toBe('42703');
    expect(await failure(write('gadgets', { id: 'd', part: 1, nope: 1 }, { label: 'x' }))).toBe('42703');
    expect(await failure(write('gadgets', { id: 'd' }, { label: 'x' }))).toBe('22023');
    expect(await failure(write('pg_class', null, { relname: 'x' }))).toBe('22023');
    expect(await gadget('d')).toBeUndefined();
  });

  it('each listed table’s writer was compiled with the columns the catalog has now (a migration that changes one re-runs the install)', async () => {
    const { rows } = await sql<{ table_name: string; compiled: string[]; catalog: string[] }>`
      SELECT c.table_name, c.columns AS compiled,
             (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
               WHERE a.attrelid = c.table_name::regclass AND a.attnum > 0 AND NOT a.attisdropped
                 AND a.attgenerated = '' AND a.attidentity = '') AS catalog
        FROM command_row_tables c ORDER BY 1`.execute(t.db);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['account_read_model', 'api_keys', 'gadgets']));
    for (const row of rows) expect({ table: row.table_name, columns: row.compiled }).toEqual({ table: row.table_name, columns: row.catalog });
  });
});
