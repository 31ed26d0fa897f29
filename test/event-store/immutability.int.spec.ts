import { sql } from 'kysely';
import { EventStore } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('the event log is append-only', () => {
  let t: TestDatabase;
  let snapshot: unknown[];

  const rows = async () =>
    (await sql`SELECT * FROM events ORDER BY global_position`.execute(t.db)).rows;

  beforeAll(async () => {
    t = await createTestDatabase();
    const store = new EventStore(t.db);
    await store.append('immutable-1', [{ type: 'A', data: { v: 1 } }, { type: 'B', data: { v: 2 } }], 'no_stream');
    await store.append('immutable-2', [{ type: 'C', data: { v: 3 } }], 'no_stream');
    snapshot = await rows();
    expect(snapshot).toHaveLength(3);
  });
  afterAll(() => t.destroy());

  it.each([
    ['UPDATE of data', `UPDATE events SET data = '{"v": 99}' WHERE stream_id = 'immutable-1'`],
    ['UPDATE of the whole table', `UPDATE events SET type = type`],
    ['DELETE of one event', `DELETE FROM events WHERE stream_id = 'immutable-2'`],
    ['DELETE of everything', `DELETE FROM events`],
    ['TRUNCATE', `TRUNCATE events`],
    ['TRUNCATE ... CASCADE', `TRUNCATE events RESTART IDENTITY CASCADE`],
  ])('%s is refused and changes nothing', async (_, statement) => {
    const client = await t.client();
    await expect(client.query(statement)).rejects.toMatchObject({ code: '42501' });
    expect(await rows()).toEqual(snapshot);
  });

  it('is refused inside a transaction too', async () => {
    const client = await t.client();
    await client.query('BEGIN');
    await client.query(`SELECT * FROM append_to_stream('immutable-3', 'any', NULL, ARRAY[gen_random_uuid()], ARRAY['D'], ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])`);
    await expect(client.query(`UPDATE events SET data = '{}' WHERE stream_id = 'immutable-3'`)).rejects.toMatchObject({ code: '42501' });
    await client.query('ROLLBACK');
    expect(await rows()).toEqual(snapshot);
  });
});
