import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { DuplicateEventIdError, EventStore, WrongExpectedVersionError, type NewEvent } from '@accountable/event-store';
import { createKysely, createPool } from '@accountable/database';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * Appends without a transaction of the caller's share commits: those submitted while one call is
 * in flight go together in the next (`append_to_streams`, one transaction). With one call in
 * flight, the first append goes alone and everything submitted in the same tick after it forms
 * the next batch: the batches below are deterministic.
 */
describe('EventStore.append: shared commits', () => {
  let t: TestDatabase;
  let store: EventStore;
  let n = 0;
  const stream = () => `shared-${++n}-${randomUUID()}`;
  const ev = (data: Record<string, unknown> = {}): NewEvent => ({ eventId: randomUUID(), type: 'Happened', data });

  beforeAll(async () => {
    t = await createTestDatabase({ max: 10 });
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  async function rowsOf(streams: string[]) {
    const { rows } = await sql<{ stream_id: string; stream_version: number; tx: string; event_id: string }>`
      SELECT stream_id, stream_version, transaction_id::text AS tx, event_id FROM events
       WHERE stream_id = ANY(${streams}::text[]) ORDER BY global_position`.execute(t.db);
    return rows;
  }

  async function waitForLockWaiter(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(t.db);
      if (rows[0].n > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no session started waiting on a lock');
  }

  it('carries the appends submitted while one is in flight in one transaction, each with its own result', async () => {
    const streams = Array.from({ length: 12 }, stream);
    let signals = 0;
    const stop = store.signal.listen(() => signals++);
    const results = await Promise.all(streams.map((s) => store.append(s, [ev(), ev()], 'no_stream')));
    stop();
    // Projectors are woken once per commit.
    expect(signals).toBe(2);
    expect(results.map((r) => [r.written, r.nextVersion])).toEqual(streams.map(() => [true, 2]));
    const rows = await rowsOf(streams);
    expect(rows).toHaveLength(24);
    // The first alone, the eleven others together.
    expect(new Set(rows.map((r) => r.tx)).size).toBe(2);
    expect(new Set(results.slice(1).map((r) => r.transactionId)).size).toBe(1);
    for (const [i, s] of streams.entries()) {
      const mine = rows.filter((r) => r.stream_id === s);
      expect(mine.map((r) => r.stream_version)).toEqual([1, 2]);
      expect(mine.map((r) => r.tx)).toEqual([results[i].transactionId, results[i].transactionId]);
    }
  });

  it("fails only the append whose version check fails; the batch's others commit", async () => {
    const taken = stream();
    await store.append(taken, [ev()], 'no_stream');
    const before = stream();
    const others = [stream(), stream()];
    const first = store.append(before, [ev()], 'no_stream');
    const late = store.append(taken, [ev()], 'no_stream');
    const rest = others.map((s) => store.append(s, [ev()], 'no_stream'));
    const stale = store.append(taken, [ev()], 5);
    await first;
    await expect(late).rejects.toBeInstanceOf(WrongExpectedVersionError);
    await expect(stale).rejects.toMatchObject({ expected: 5, actual: 1 });
    const committed = await Promise.all(rest);
    expect(committed.every((r) => r.written)).toBe(true);
    expect(committed[0].transactionId).toBe(committed[1].transactionId);
    expect((await rowsOf([taken])).map((r) => r.stream_version)).toEqual([1]);
  });

  it('two appends to one stream in one batch follow each other, as if one after the other', async () => {
    const s = stream();
    const first = store.append(stream(), [ev()], 'no_stream');
    const a = store.append(s, [ev()], 'no_stream');
    const b = store.append(s, [ev(), ev()], 1);
    const c = store.append(s, [ev()], 'no_stream');
    await first;
    await expect(a).resolves.toMatchObject({ nextVersion: 1, written: true });
    await expect(b).resolves.toMatchObject({ nextVersion: 3, written: true });
    await expect(c).rejects.toBeInstanceOf(WrongExpectedVersionError);
    expect((await rowsOf([s])).map((r) => r.stream_version)).toEqual([1, 2, 3]);
  });

  it('a retried append in a batch is idempotent, and a known id elsewhere fails alone', async () => {
    const s = stream();
    const events = [ev(), ev()];
    await store.append(s, events, 'no_stream');
    const first = store.append(stream(), [ev()], 'no_stream');
    const retry = store.append(s, events, 'no_stream');
    const elsewhere = store.append(stream(), [events[0]], 'no_stream');
    const fine = store.append(stream(), [ev()], 'no_stream');
    await first;
    await expect(retry).resolves.toEqual({ nextVersion: 2, written: false });
    await expect(elsewhere).rejects.toBeInstanceOf(DuplicateEventIdError);
    await expect(fine).resolves.toMatchObject({ written: true });
  });

  it('when the server undoes a batch (an id committed concurrently elsewhere), each append runs again alone and only that one fails', async () => {
    const contested = ev();
    const holder = await t.client();
    await holder.query('BEGIN');
    await holder.query(`SELECT * FROM append_to_stream($1, 'no_stream', NULL, $2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[])`, [
      stream(),
      [contested.eventId],
      ['Happened'],
      [1],
      ['{}'],
      ['{}'],
    ]);
    const bystanderStream = stream();
    const first = store.append(stream(), [ev()], 'no_stream');
    const loser = store.append(stream(), [contested], 'no_stream');
    const bystander = store.append(bystanderStream, [ev()], 'no_stream');
    await first;
    // The batch's insert of the contested id waits for the holder; its commit makes it raise.
    await waitForLockWaiter();
    await holder.query('COMMIT');
    await expect(loser).rejects.toBeInstanceOf(DuplicateEventIdError);
    await expect(bystander).resolves.toMatchObject({ written: true, nextVersion: 1 });
    expect(await rowsOf([bystanderStream])).toHaveLength(1);
  });

  it('a batch whose connection is lost acknowledges none of its appends, and none is stored', async () => {
    // A pool of its own: the terminated connection may go back to its pool before pg sees it end.
    const db = createKysely(createPool(t.url, { max: 4 }));
    const store = new EventStore(db);
    const blocker = stream();
    const holder = await t.client();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [blocker]);
    const victims = [blocker, stream(), stream()];
    // The first goes alone; the three victims together in the next call, which waits on the lock.
    const first = store.append(stream(), [ev()], 'no_stream');
    const pending = victims.map((s) => store.append(s, [ev()], 'any').then(() => 'acknowledged', (e: Error) => e));
    await first;
    await waitForLockWaiter();
    await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`.execute(t.db);
    const outcomes = await Promise.all(pending);
    await holder.query('ROLLBACK');
    expect(outcomes.every((o) => o instanceof Error)).toBe(true);
    const { rows } = await holder.query('SELECT count(*)::int AS n FROM events WHERE stream_id = ANY($1::text[])', [victims]);
    expect(rows[0].n).toBe(0);
    await db.destroy();
  });

  it('append_to_streams refuses arrays that do not line up', async () => {
    await expect(
      sql`SELECT * FROM append_to_streams(ARRAY['a','b'], ARRAY['any'], ARRAY[NULL]::bigint[], ARRAY[1], ARRAY[gen_random_uuid()], ARRAY['T'], ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])`.execute(
        t.db,
      ),
    ).rejects.toMatchObject({ code: '22023' });
  });
});
