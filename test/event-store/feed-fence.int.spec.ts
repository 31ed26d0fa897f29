import { sql } from 'kysely';
import pg from 'pg';
import { FEED_READER_APPLICATION_NAME } from '@accountable/database';
import { EventStore, FEED_START } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { eventually } from '../support/webhook-receiver';

/**
 * The feed's fence (feed_fence(), migration 0020): an event is delivered once every transaction
 * that could still insert an event before it has ended. The feed readers' own transactions
 * (projector batches, Event Streams delivery) cannot — the database refuses their inserts — so
 * they no longer hold it; any other open transaction with an id still does.
 *
 * The fence is cluster-wide and other test files share the server, so a delivery that should
 * happen is waited for (their transactions are short), while "held back" is checked while our
 * own transaction is known to be open.
 */
describe('the feed fence', () => {
  let t: TestDatabase;
  let store: EventStore;
  const sessions: pg.Client[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
  });
  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await t.destroy();
  });

  /** A session of `name` with a transaction holding an xid, open until `end` is called. */
  async function openTransaction(name: string): Promise<{ client: pg.Client; end: () => Promise<void> }> {
    const client = new pg.Client({ connectionString: t.url, application_name: name });
    client.on('error', () => undefined);
    await client.connect();
    sessions.push(client);
    await client.query('BEGIN');
    await client.query('SELECT pg_current_xact_id()');
    return { client, end: async () => void (await client.query('COMMIT')) };
  }

  const delivered = async (streamId: string) => (await store.readFeed(FEED_START, 100_000)).some((e) => e.streamId === streamId);
  const eventuallyDelivered = (streamId: string) => eventually(() => delivered(streamId), Boolean, 15_000, `${streamId} in the feed`);

  it('names the same sessions as the code that opens them', async () => {
    const { rows } = await sql<{ names: string[] }>`SELECT feed_reader_application_names() AS names`.execute(t.db);
    expect([...rows[0].names].sort()).toEqual(Object.values(FEED_READER_APPLICATION_NAME).sort());
  });

  it.each(Object.entries(FEED_READER_APPLICATION_NAME))('does not wait for an open transaction of the %s sessions', async (_, name) => {
    const reader = await openTransaction(name);
    try {
      const stream = `fence-reader-${name}`;
      await store.append(stream, [{ type: 'After', data: {} }], 'no_stream');
      // The old fence (the snapshot's xmin) would hold the event for as long as the reader's transaction is open.
      const { rows } = await sql<{ held: boolean }>`
        SELECT EXISTS (SELECT 1 FROM events WHERE stream_id = ${stream} AND transaction_id >= pg_snapshot_xmin(pg_current_snapshot())) AS held`.execute(t.db);
      expect(rows[0].held).toBe(true);
      expect(await eventuallyDelivered(stream)).toBe(true);
    } finally {
      await reader.end();
    }
  });

  it('still waits for any other open transaction, and delivers once it ends', async () => {
    const writer = await openTransaction('accountable-all');
    const stream = 'fence-other';
    await store.append(stream, [{ type: 'After', data: {} }], 'no_stream');
    await new Promise((r) => setTimeout(r, 200));
    expect(await delivered(stream)).toBe(false);
    await writer.end();
    expect(await eventuallyDelivered(stream)).toBe(true);
  });

  it.each(Object.entries(FEED_READER_APPLICATION_NAME))('refuses an event from a %s session, by any way of inserting it', async (_, name) => {
    const reader = await openTransaction(name);
    try {
      const append = reader.client.query(
        `SELECT * FROM append_to_stream($1, 'no_stream', NULL, ARRAY[gen_random_uuid()], ARRAY['X'], ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])`,
        [`fence-refused-${name}`],
      );
      await expect(append).rejects.toMatchObject({ code: '42501' });
      await reader.client.query('ROLLBACK');
      await reader.client.query('BEGIN');
      const insert = reader.client.query(
        `INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata) VALUES ('fence-direct', 1, gen_random_uuid(), 'X', '{}', '{}')`,
      );
      await expect(insert).rejects.toMatchObject({ code: '42501' });
    } finally {
      await reader.client.query('ROLLBACK');
    }
    expect(await sql`SELECT 1 FROM events WHERE stream_id IN (${`fence-refused-${name}`}, 'fence-direct')`.execute(t.db)).toMatchObject({ rows: [] });
  });
});
