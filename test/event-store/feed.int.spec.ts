import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type pg from 'pg';
import { EventStore, FEED_START, ProjectionRunner, type Projection } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const APPEND_SQL = `SELECT * FROM append_to_stream($1, 'any', NULL, $2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[])`;

interface Seen {
  stream_id: string;
  stream_version: number;
  event_id: string;
  transaction_id: string;
  global_position: number;
}

/**
 * The feed is fenced by the oldest transaction running anywhere on the server, and other test
 * files share the server: a delivery that should happen is waited for, not expected at once.
 */
async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the global feed', () => {
  let t: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    await sql`
      CREATE TABLE feed_seen (
        seq             bigserial PRIMARY KEY,
        projection      text NOT NULL,
        stream_id       text NOT NULL,
        stream_version  bigint NOT NULL,
        event_id        uuid NOT NULL,
        transaction_id  xid8 NOT NULL,
        global_position bigint NOT NULL
      )`.execute(t.db);
  });
  afterAll(() => t.destroy());

  /** A projection that records every delivery, duplicates included. */
  function recorder(name: string): Projection {
    return {
      name,
      async apply(trx, events) {
        for (const e of events) {
          await sql`
            INSERT INTO feed_seen (projection, stream_id, stream_version, event_id, transaction_id, global_position)
            VALUES (${name}, ${e.streamId}, ${e.streamVersion}, ${e.eventId}, ${e.transactionId}::xid8, ${e.globalPosition})`.execute(trx);
        }
      },
      async reset(trx) {
        await sql`DELETE FROM feed_seen WHERE projection = ${name}`.execute(trx);
      },
    };
  }

  function runner(projection: Projection, batchSize = 100): ProjectionRunner {
    return new ProjectionRunner(t.db, store, [projection], { connectionString: t.url, batchSize });
  }

  async function seen(projection: string, streams: string[]): Promise<Seen[]> {
    const { rows } = await sql<Seen>`
      SELECT stream_id, stream_version, event_id, transaction_id::text AS transaction_id, global_position
        FROM feed_seen WHERE projection = ${projection} AND stream_id = ANY (${streams}::text[]) ORDER BY seq`.execute(t.db);
    return rows;
  }

  /** Runs the projection until it has delivered `count` events of these streams (or times out). */
  async function deliver(r: ProjectionRunner, streams: string[], count: number): Promise<Seen[]> {
    const name = r.projections[0].name;
    return eventually(
      async () => {
        await r.catchUp(r.projections[0]);
        return seen(name, streams);
      },
      (rows) => rows.length >= count,
    );
  }

  async function rawAppend(client: pg.Client, streamId: string, count = 1) {
    const ids = Array.from({ length: count }, () => randomUUID());
    const { rows } = await client.query<{ outcome: string; tx: string; first_position: string }>(APPEND_SQL, [
      streamId,
      ids,
      ids.map(() => 'Raw'),
      ids.map(() => 1),
      ids.map(() => '{}'),
      ids.map(() => '{}'),
    ]);
    expect(rows[0].outcome).toBe('appended');
    return { ids, tx: BigInt(rows[0].tx), position: Number(rows[0].first_position) };
  }

  function expectFeedOrder(rows: Seen[]) {
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      const ordered = BigInt(a.transaction_id) < BigInt(b.transaction_id) || (a.transaction_id === b.transaction_id && a.global_position < b.global_position);
      expect({ ordered, a, b }).toMatchObject({ ordered: true });
    }
  }

  async function expectNoDuplicates(projection: string) {
    const { rows } = await sql<{ event_id: string; n: number }>`
      SELECT event_id, count(*)::int AS n FROM feed_seen WHERE projection = ${projection} GROUP BY event_id HAVING count(*) > 1`.execute(t.db);
    expect(rows).toEqual([]);
  }

  it('an older transaction committing after a newer one: the newer waits, then both arrive once, in feed order', async () => {
    const name = 'older-commits-last';
    const r = runner(recorder(name));
    const streams = ['older-a', 'newer-b'];
    const older = await t.client();
    await older.query('BEGIN');
    const a = await rawAppend(older, 'older-a', 2);
    const b = await store.append('newer-b', [{ type: 'Newer', data: {} }], 'no_stream');
    expect(BigInt(b.transactionId!)).toBeGreaterThan(a.tx);
    expect(b.firstPosition!).toBeGreaterThan(a.position);

    // A reader going by position alone would deliver b now and skip a's events for good.
    await r.catchUp(r.projections[0]);
    expect(await seen(name, streams)).toEqual([]);
    expect((await store.readFeed(FEED_START, 1000)).filter((e) => streams.includes(e.streamId))).toEqual([]);

    await older.query('COMMIT');
    const rows = await deliver(r, streams, 3);

    expect(rows.map((s) => [s.stream_id, s.stream_version])).toEqual([['older-a', 1], ['older-a', 2], ['newer-b', 1]]);
    expect(rows.map((s) => s.event_id).slice(0, 2)).toEqual(a.ids);
    expectFeedOrder(rows);
    expect(await r.catchUp(r.projections[0])).toBe(0);
    await expectNoDuplicates(name);
  });

  it('a transaction with an older id that appends last is delivered first, after the newer one has waited', async () => {
    const name = 'older-xid-higher-position';
    const r = runner(recorder(name));
    const streams = ['oldxid-a', 'oldxid-b'];
    const older = await t.client();
    await older.query('BEGIN');
    // Takes a transaction id without appending yet: an open transaction, events or not, is a fence.
    const { rows: xid } = await older.query<{ xid: string }>('SELECT pg_current_xact_id()::text AS xid');
    const b = await store.append('oldxid-b', [{ type: 'Newer', data: {} }], 'no_stream');
    await r.catchUp(r.projections[0]);
    expect(await seen(name, streams)).toEqual([]);

    const a = await rawAppend(older, 'oldxid-a');
    expect(a.tx).toBe(BigInt(xid[0].xid));
    expect(a.position).toBeGreaterThan(b.firstPosition!);
    await r.catchUp(r.projections[0]);
    expect(await seen(name, streams)).toEqual([]);
    await older.query('COMMIT');

    const rows = await deliver(r, streams, 2);
    // Feed order is transaction order, not position order.
    expect(rows.map((s) => s.stream_id)).toEqual(['oldxid-a', 'oldxid-b']);
    expectFeedOrder(rows);
    expect(await r.catchUp(r.projections[0])).toBe(0);
    await expectNoDuplicates(name);
  });

  it('an open transaction that appends nothing holds later events back only until it ends', async () => {
    const name = 'fence-without-events';
    const r = runner(recorder(name));
    const fence = await t.client();
    await fence.query('BEGIN');
    await fence.query('SELECT pg_current_xact_id()');
    const later = await store.append('fenced', [{ type: 'Later', data: {} }], 'no_stream');
    for (let i = 0; i < 3; i++) {
      await r.catchUp(r.projections[0]);
      expect(await seen(name, ['fenced'])).toEqual([]);
      expect((await store.feedHead()).globalPosition).toBeLessThan(later.firstPosition!);
      await new Promise((res) => setTimeout(res, 20));
    }
    await fence.query('COMMIT');
    expect(await deliver(r, ['fenced'], 1)).toHaveLength(1);
    expect(BigInt((await store.feedHead()).transactionId)).toBeGreaterThanOrEqual(BigInt(later.transactionId!));
  });

  it('a rolled-back transaction leaves a gap in positions but no stall', async () => {
    const name = 'rolled-back';
    const r = runner(recorder(name));
    const streams = ['rb-doomed', 'rb-after'];
    const doomed = await t.client();
    await doomed.query('BEGIN');
    const gone = await rawAppend(doomed, 'rb-doomed', 3);
    const after = await store.append('rb-after', [{ type: 'After', data: {} }], 'no_stream');
    await r.catchUp(r.projections[0]);
    expect(await seen(name, streams)).toEqual([]);

    await doomed.query('ROLLBACK');
    const rows = await deliver(r, streams, 1);

    expect(rows.map((s) => [s.stream_id, s.global_position])).toEqual([['rb-after', after.firstPosition]]);
    expect(after.firstPosition!).toBeGreaterThan(gone.position + 2);
    const { rows: left } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE stream_id = 'rb-doomed'`.execute(t.db);
    expect(left[0].n).toBe(0);
    // Later appends keep flowing past the gap.
    await store.append('rb-after', [{ type: 'After', data: {} }], 1);
    expect(await deliver(r, streams, 2)).toHaveLength(2);
    await expectNoDuplicates(name);
  });

  it('a large transaction split across batches is delivered whole, in order, once', async () => {
    const name = 'split-batches';
    const r = runner(recorder(name), 3);
    await store.append('split', Array.from({ length: 10 }, (_, i) => ({ type: 'Part', data: { i } })), 'no_stream');
    const rows = await deliver(r, ['split'], 10);
    expect(rows.map((s) => s.stream_version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(rows.map((s) => s.transaction_id)).size).toBe(1);
    expect(await r.catchUp(r.projections[0])).toBe(0);
    await expectNoDuplicates(name);
  });

  it('a new runner on the same checkpoint does not redeliver, and picks up only what came after', async () => {
    const name = 'restart';
    const streams = ['restart-1', 'restart-2'];
    const first = runner(recorder(name), 2);
    await store.append('restart-1', [{ type: 'A', data: {} }, { type: 'A', data: {} }, { type: 'A', data: {} }], 'no_stream');
    const before = await deliver(first, streams, 3);
    expect(before).toHaveLength(3);
    const { rows: checkpoint } = await sql<{ global_position: number }>`
      SELECT global_position FROM projection_checkpoints WHERE name = ${name}`.execute(t.db);
    expect(checkpoint[0].global_position).toBe(before[2].global_position);

    const second = runner(recorder(name), 2);
    expect(await second.catchUp(second.projections[0])).toBe(0);
    await store.append('restart-2', [{ type: 'B', data: {} }], 'no_stream');
    const after = await deliver(second, streams, 4);

    expect(after.map((s) => [s.stream_id, s.stream_version])).toEqual([
      ['restart-1', 1],
      ['restart-1', 2],
      ['restart-1', 3],
      ['restart-2', 1],
    ]);
    expectFeedOrder(after);
    await expectNoDuplicates(name);
  });

  it('reset empties the projection and replays the feed from the start', async () => {
    const name = 'replay';
    const r = runner(recorder(name));
    await store.append('replay-1', [{ type: 'A', data: {} }, { type: 'A', data: {} }], 'no_stream');
    const first = await deliver(r, ['replay-1'], 2);
    await r.reset(r.projections[0]);
    expect(await seen(name, ['replay-1'])).toEqual([]);
    const again = await deliver(r, ['replay-1'], 2);
    expect(again.map((s) => s.event_id)).toEqual(first.map((s) => s.event_id));
    await expectNoDuplicates(name);
  });
});
