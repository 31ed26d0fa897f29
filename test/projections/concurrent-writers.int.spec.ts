import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, WrongExpectedVersionError, type NewEvent, ProjectionRunner, type Projection, type RunnerLogger } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const ROUNDS = 5;
const WRITERS = 8;
const OPERATIONS = 30;
const STREAMS = 10;

/** Small seeded PRNG (mulberry32): a failing run can be replayed with TEST_SEED. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

class Rollback extends Error {}

describe('randomized concurrent writers with a live projection', () => {
  let t: TestDatabase;
  let store: EventStore;
  const seed = Number(process.env.TEST_SEED ?? Date.now() % 1_000_000);

  beforeAll(async () => {
    t = await createTestDatabase({ max: WRITERS + 6 });
    store = new EventStore(t.db);
    // No key on event_id on purpose: a second delivery must show up as a second row.
    await sql`
      CREATE TABLE projected (
        seq             bigserial PRIMARY KEY,
        event_id        uuid NOT NULL,
        stream_id       text NOT NULL,
        stream_version  bigint NOT NULL,
        transaction_id  xid8 NOT NULL,
        global_position bigint NOT NULL
      )`.execute(t.db);
  });
  afterAll(() => t.destroy());

  const projection: Projection = {
    name: 'concurrent',
    async apply(trx, events) {
      await sql`
        INSERT INTO projected (event_id, stream_id, stream_version, transaction_id, global_position)
        SELECT * FROM unnest(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.streamId)}::text[],
                             ${events.map((e) => e.streamVersion)}::bigint[], ${events.map((e) => e.transactionId)}::xid8[],
                             ${events.map((e) => e.globalPosition)}::bigint[])`.execute(trx);
    },
    async reset(trx) {
      await sql`DELETE FROM projected`.execute(trx);
    },
  };

  it(`every committed event is applied exactly once, in stream order (${ROUNDS} rounds × ${WRITERS} writers × ${OPERATIONS} appends)`, async () => {
    const rand = random(seed);
    const committed = new Set<string>();
    const rolledBack = new Set<string>();
    const batches: NewEvent[][] = [];
    const errors: unknown[] = [];
    const logger: RunnerLogger = { info: () => undefined, warn: () => undefined, error: (_m, e) => errors.push(e) };
    const newRunner = () =>
      new ProjectionRunner(t.db, store, [projection], { connectionString: t.url, batchSize: 17, pollIntervalMs: 50, leaderRetryMs: 50, logger });

    const newEvents = (): NewEvent[] =>
      Array.from({ length: 1 + Math.floor(rand() * 4) }, () => ({ eventId: randomUUID(), type: 'Random', data: { r: rand() } }));

    async function plainAppend(stream: string) {
      const events = newEvents();
      for (let attempt = 0; attempt < 20; attempt++) {
        const useExact = rand() < 0.7;
        const expected = useExact ? ((await store.streamVersion(stream)) ?? 0) : 'any';
        try {
          await store.append(stream, events, expected);
          events.forEach((e) => committed.add(e.eventId!));
          batches.push(events);
          return;
        } catch (error) {
          if (!(error instanceof WrongExpectedVersionError)) throw error;
        }
      }
    }

    /** Appends as the transaction's first write, optionally sleeping while it holds its xid open. */
    async function transactionalAppend(stream: string, rollback: boolean, slow: boolean) {
      const events = newEvents();
      try {
        await t.db.transaction().execute(async (trx) => {
          if (slow) await sql`SELECT pg_sleep(${rand() * 0.02})`.execute(trx);
          await store.append(stream, events, 'any', trx);
          if (slow) await sql`SELECT pg_sleep(${0.005 + rand() * 0.03})`.execute(trx);
          if (rollback) throw new Rollback();
        });
        events.forEach((e) => committed.add(e.eventId!));
        batches.push(events);
      } catch (error) {
        if (!(error instanceof Rollback)) throw error;
        events.forEach((e) => rolledBack.add(e.eventId!));
      }
    }

    async function retryAppend() {
      const events = batches[Math.floor(rand() * batches.length)];
      const stream = (await sql<{ stream_id: string }>`SELECT stream_id FROM events WHERE event_id = ${events[0].eventId}::uuid`.execute(t.db)).rows[0]
        .stream_id;
      const result = await store.append(stream, events, 'any');
      expect(result.written).toBe(false);
    }

    async function writer() {
      for (let i = 0; i < OPERATIONS; i++) {
        const stream = `s-${Math.floor(rand() * STREAMS)}`;
        const dice = rand();
        if (dice < 0.55) await plainAppend(stream);
        else if (dice < 0.7) await transactionalAppend(stream, true, rand() < 0.5);
        else if (dice < 0.9) await transactionalAppend(stream, false, true);
        else if (batches.length > 0) await retryAppend();
      }
    }

    let runner = newRunner();
    runner.start();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await Promise.all(Array.from({ length: WRITERS }, writer));
        if (round === 1) {
          // Restart mid-stream: a new runner resumes from the checkpoint.
          await runner.stop();
          runner = newRunner();
          runner.start();
        }
      }

      const deadline = Date.now() + 20_000;
      let projectedCount = 0;
      while (Date.now() < deadline) {
        projectedCount = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM projected`.execute(t.db)).rows[0].n;
        if (projectedCount >= committed.size) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      // Give a (wrong) redelivery a chance to show itself.
      await new Promise((r) => setTimeout(r, 150));
    } finally {
      await runner.stop();
    }

    const context = `seed ${seed}`;
    expect({ context, errors }).toEqual({ context, errors: [] });
    expect(committed.size).toBeGreaterThan(ROUNDS * WRITERS * 10);
    expect(rolledBack.size).toBeGreaterThan(0);

    const stored = (await sql<{ event_id: string }>`SELECT event_id FROM events`.execute(t.db)).rows.map((r) => r.event_id);
    expect({ context, stored: stored.length }).toEqual({ context, stored: committed.size });
    expect(stored.every((id) => committed.has(id))).toBe(true);

    const { rows } = await sql<{ event_id: string; stream_id: string; stream_version: number; transaction_id: string; global_position: number }>`
      SELECT event_id, stream_id, stream_version, transaction_id::text AS transaction_id, global_position FROM projected ORDER BY seq`.execute(t.db);
    const duplicates = rows.length - new Set(rows.map((r) => r.event_id)).size;
    expect({ context, applied: rows.length, duplicates }).toEqual({ context, applied: committed.size, duplicates: 0 });
    expect(rows.filter((r) => !committed.has(r.event_id))).toEqual([]);
    expect(rows.filter((r) => rolledBack.has(r.event_id))).toEqual([]);

    // Per stream, the projection saw versions 1, 2, 3, ... with no gap and no reordering.
    const byStream = new Map<string, number[]>();
    for (const r of rows) byStream.set(r.stream_id, [...(byStream.get(r.stream_id) ?? []), r.stream_version]);
    for (const [stream, versions] of byStream) {
      expect({ context, stream, versions }).toEqual({ context, stream, versions: versions.map((_, i) => i + 1) });
    }
    // Globally, deliveries followed (transaction_id, global_position).
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      const ordered = BigInt(a.transaction_id) < BigInt(b.transaction_id) || (a.transaction_id === b.transaction_id && a.global_position < b.global_position);
      if (!ordered) expect({ context, a, b }).toBeUndefined();
    }
  });
});
