import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, type NewEvent } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Each event's time is taken after its stream's lock and never before the stream's previous
 * event, so per stream, time order is version order. It used to be the appending transaction's
 * start (now()): a command that began first and took the lock second stamped its later version
 * with the earlier time.
 */
describe('recorded_at: stamped after the stream lock, monotonic per stream', () => {
  let t: TestDatabase;
  let store: EventStore;
  let n = 0;
  const stream = () => `clock-${++n}`;
  const ev = (type = 'Happened'): NewEvent => ({ eventId: randomUUID(), type, data: {} });

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  const stored = async (streamId: string) =>
    (
      await sql<{ v: number; at: string }>`
        SELECT stream_version AS v, recorded_at::text AS at FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`.execute(t.db)
    ).rows;
  const inOrder = async (streamId: string) =>
    (
      await sql<{ ok: boolean }>`
        SELECT coalesce(bool_and(ordered), true) AS ok FROM (
          SELECT recorded_at >= lag(recorded_at) OVER (ORDER BY stream_version) AS ordered FROM events WHERE stream_id = ${streamId}) x`.execute(t.db)
    ).rows[0].ok;

  it('a transaction that began before another appender, and appends after it, gets the later time', async () => {
    const id = stream();
    await store.append(id, [ev()], 'no_stream');
    await t.db.transaction().execute(async (trx) => {
      await sql`SELECT 1`.execute(trx); // its now() is fixed from here on
      await pause(30);
      await store.append(id, [ev()], 1); // another transaction, 30 ms later, takes version 2
      await store.append(id, [ev()], 2, trx); // version 3, in the transaction that began first
    });
    const events = await stored(id);
    expect(events.map((e) => e.v)).toEqual([1, 2, 3]);
    expect(await inOrder(id)).toBe(true);
  });

  it('a writer queued on the stream lock is stamped once it holds it', async () => {
    const id = stream();
    await store.append(id, [ev()], 'no_stream');
    const holder = await t.client();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [id]);
    const queued = t.db.transaction().execute((trx) => store.append(id, [ev()], 1, trx));
    await pause(50);
    const released = Date.now();
    await holder.query('COMMIT');
    const result = await queued;
    const [, second] = await stored(id);
    // Stamped after the wait, not when its transaction began 50 ms earlier.
    expect(new Date(second.at).getTime()).toBeGreaterThanOrEqual(released - 5);
    // And the append says which time it stamped, to the millisecond the read model keeps.
    expect(result.recordedAt?.getTime()).toBe(Math.floor(Date.parse(second.at)));
  });

  it('never before the stream’s previous event, whatever the clock says', async () => {
    const id = stream();
    // A previous event an hour ahead of this clock (a clock stepped back, a restored server),
    // its stream row dated with it as the append leaves it: one transaction, one now().
    await t.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO streams (stream_id, version, updated_at) VALUES (${id}, 1, now() + interval '1 hour')`.execute(trx);
      await sql`
        INSERT INTO events (stream_id, stream_version, event_id, type, data, recorded_at)
        VALUES (${id}, 1, gen_random_uuid(), 'Happened', '{}', now() + interval '1 hour')`.execute(trx);
    });
    const result = await store.append(id, [ev(), ev()], 1);
    const events = await stored(id);
    expect(events.map((e) => e.v)).toEqual([1, 2, 3]);
    expect(await inOrder(id)).toBe(true);
    // One append, one instant: the events of an append share their time.
    expect(events[1].at).toBe(events[2].at);
    expect(result.recordedAt?.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
  });

  it('the stream row remembers its last event’s time (what the next append compares with)', async () => {
    const id = stream();
    await store.append(id, [ev()], 'no_stream');
    await store.append(id, [ev()], 1);
    const { rows } = await sql<{ same: boolean; created: boolean }>`
      SELECT s.updated_at = (SELECT max(recorded_at) FROM events e WHERE e.stream_id = s.stream_id) AS same,
             s.created_at = (SELECT recorded_at FROM events e WHERE e.stream_id = s.stream_id AND stream_version = 1) AS created
        FROM streams s WHERE s.stream_id = ${id}`.execute(t.db);
    expect(rows[0]).toEqual({ same: true, created: true });
  });

  it('under concurrent appenders to one stream, time order is version order', async () => {
    const id = stream();
    await store.append(id, [ev()], 'no_stream');
    // Each begins its transaction first, then appends whenever the lock lets it.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.db.transaction().execute(async (trx) => {
          await sql`SELECT 1`.execute(trx);
          await pause((i * 7) % 20);
          await store.append(id, [ev()], 'any', trx);
        }),
      ),
    );
    expect((await stored(id)).length).toBe(21);
    expect(await inOrder(id)).toBe(true);
  });
});
