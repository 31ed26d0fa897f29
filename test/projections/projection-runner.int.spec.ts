import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, FEED_START, type FeedPosition, CheckpointConflictError, ProjectionRunner, type Projection } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

async function eventually<T>(probe: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('ProjectionRunner', () => {
  let t: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    await sql`
      CREATE TABLE runner_log (
        seq        bigserial PRIMARY KEY,
        projection text NOT NULL,
        runner     text NOT NULL,
        stream_id  text NOT NULL,
        event_id   uuid NOT NULL
      )`.execute(t.db);
    // The shape of a real read model: keyed by what the event is about.
    await sql`CREATE TABLE runner_keyed (projection text NOT NULL, event_id uuid NOT NULL, PRIMARY KEY (projection, event_id))`.execute(t.db);
  });
  afterAll(() => t.destroy());

  interface Options {
    runner: string;
    keyed?: boolean;
    /** Seconds to spend in the apply transaction, so that two runners overlap. */
    slow?: number;
  }

  function projection(name: string, { runner, keyed = false, slow = 0 }: Options): Projection {
    return {
      name,
      async apply(trx, events) {
        if (slow) await sql`SELECT pg_sleep(${slow})`.execute(trx);
        const ids = events.map((e) => e.eventId);
        const streams = events.map((e) => e.streamId);
        await sql`
          INSERT INTO runner_log (projection, runner, stream_id, event_id)
          SELECT ${name}, ${runner}, s, id FROM unnest(${streams}::text[], ${ids}::uuid[]) AS u(s, id)`.execute(trx);
        if (keyed) await sql`INSERT INTO runner_keyed (projection, event_id) SELECT ${name}, unnest(${ids}::uuid[])`.execute(trx);
      },
      async reset(trx) {
        await sql`DELETE FROM runner_log WHERE projection = ${name}`.execute(trx);
        await sql`DELETE FROM runner_keyed WHERE projection = ${name}`.execute(trx);
      },
    };
  }

  async function log(name: string, stream?: string) {
    const { rows } = await sql<{ runner: string; event_id: string }>`
      SELECT runner, event_id FROM runner_log
       WHERE projection = ${name} AND (${stream ?? null}::text IS NULL OR stream_id = ${stream ?? null})
       ORDER BY seq`.execute(t.db);
    return rows;
  }

  async function checkpoint(name: string): Promise<FeedPosition | undefined> {
    const { rows } = await sql<{ transaction_id: string; global_position: number }>`
      SELECT transaction_id::text, global_position FROM projection_checkpoints WHERE name = ${name}`.execute(t.db);
    return rows[0] && { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position };
  }

  async function appendSome(stream: string, count: number) {
    const result = await store.append(stream, Array.from({ length: count }, (_, i) => ({ type: 'Thing', data: { i } })), 'any');
    return { ...result, events: await store.readStream(stream, { fromVersion: result.nextVersion - count + 1 }) };
  }

  /** The real store, except that the first `parties` readFeed calls return together. */
  function barrierStore(parties: number): EventStore {
    const waiting: (() => void)[] = [];
    let open = false;
    return new (class extends EventStore {
      override async readFeed(...args: Parameters<EventStore['readFeed']>) {
        const events = await super.readFeed(...args);
        if (!open) {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === parties) {
              open = true;
              waiting.forEach((release) => release());
            }
          });
        }
        return events;
      }
    })(t.db);
  }

  describe('two runners processing one projection at once', () => {
    it.each([
      ['a log without keys (only the checkpoint stops a double effect)', false],
      ['a keyed read model (the loser must still see a checkpoint conflict)', true],
    ])('into %s: one advances, the other gets CheckpointConflictError and leaves no trace', async (_, keyed) => {
      const name = `cas-${keyed ? 'keyed' : 'log'}`;
      const { events } = await appendSome(`cas-stream-${name}`, 5);
      // Wait out any fence from other test files, so that both runners see the whole batch.
      await eventually(() => store.readFeed(FEED_START, 1000), (f) => f.some((e) => e.eventId === events[4].eventId));
      // Both runners must have read the same checkpoint and batch before either advances:
      // otherwise the later one would simply start from the moved checkpoint.
      const meeting = barrierStore(2);
      const a = new ProjectionRunner(t.db, meeting, [projection(name, { runner: 'a', keyed, slow: 0.1 })], { connectionString: t.url });
      const b = new ProjectionRunner(t.db, meeting, [projection(name, { runner: 'b', keyed, slow: 0.1 })], { connectionString: t.url });

      const results = await Promise.allSettled([a.processBatch(a.projections[0]), b.processBatch(b.projections[0])]);

      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(CheckpointConflictError);
      expect(lost[0]).toMatchObject({ projection: name });
      expect(won).toHaveLength(1);
      const applied = (won[0] as PromiseFulfilledResult<number>).value;
      expect(applied).toBeGreaterThanOrEqual(5);

      const rows = await log(name);
      expect(rows).toHaveLength(applied);
      expect(new Set(rows.map((r) => r.runner)).size).toBe(1);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(applied);
      expect(rows.slice(-5).map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
      expect(await checkpoint(name)).toEqual({ transactionId: events[4].transactionId, globalPosition: events[4].globalPosition });

      // The loser's next attempt starts from the advanced checkpoint and finds nothing to redo.
      const loser = results[0].status === 'rejected' ? a : b;
      expect(await loser.processBatch(loser.projections[0])).toBe(0);
      expect(await log(name)).toHaveLength(applied);
    });
  });

  it('a commit nobody signals (an append in a caller’s own transaction) is applied at the next poll', async () => {
    // SharedFeed keeps the last stretch read; a poll must read again rather than trust it.
    const name = 'poll-unsignalled';
    const runner = new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], { connectionString: t.url, pollIntervalMs: 50, leaderRetryMs: 50 });
    try {
      runner.start();
      await eventually(() => runner.leaderOf, (l) => l.includes(name));
      await eventually(() => checkpoint(name), (c) => c !== undefined);
      await new Promise((r) => setTimeout(r, 200)); // a few empty polls: the runner's read is "complete"
      const ids = [randomUUID(), randomUUID()];
      await t.db.transaction().execute((trx) => store.append('poll-unsignalled-stream', ids.map((eventId) => ({ eventId, type: 'Thing', data: { quiet: true } })), 'any', trx));
      const rows = await eventually(() => log(name, 'poll-unsignalled-stream'), (r) => r.length >= 2, 10_000);
      expect(rows.map((r) => r.event_id)).toEqual(ids);
    } finally {
      await runner.stop();
    }
  });

  describe('wake-ups (no NOTIFY inside append_to_stream, migration 0006)', () => {
    // A poll interval far beyond the test's timeout: only a wake-up can make these pass.
    const asleep = { pollIntervalMs: 600_000, leaderRetryMs: 50 };

    it('a commit signalled in this process wakes its runner directly', async () => {
      const name = 'wake-local';
      const runner = new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], { connectionString: t.url, ...asleep });
      try {
        runner.start();
        await eventually(() => runner.leaderOf, (l) => l.includes(name));
        await eventually(() => checkpoint(name), (c) => c !== undefined); // its first (empty-handed) pass is over
        const { events } = await appendSome('wake-local-stream', 2);
        const rows = await eventually(() => log(name, 'wake-local-stream'), (r) => r.length >= 2, 10_000);
        expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
      } finally {
        await runner.stop();
      }
    });

    it('a paced projection (paceMs) takes the commits made during its pause as one batch, not one batch each', async () => {
      const name = 'paced';
      const batches: number[] = [];
      const paced: Projection = {
        ...projection(name, { runner: 'a' }),
        paceMs: 500,
        async apply(trx, events) {
          batches.push(events.length);
          await projection(name, { runner: 'a' }).apply(trx, events);
        },
      };
      const runner = new ProjectionRunner(t.db, store, [paced], { connectionString: t.url, ...asleep });
      try {
        runner.start();
        await eventually(() => checkpoint(name), (c) => c !== undefined);
        batches.length = 0;
        // 20 commits 50 ms apart (about 1 s), each waking the runner: unpaced, one batch each.
        for (let i = 0; i < 20; i++) {
          await appendSome('paced-stream', 1);
          await new Promise((r) => setTimeout(r, 50));
        }
        const rows = await eventually(() => log(name, 'paced-stream'), (r) => r.length >= 20, 10_000);
        expect(rows).toHaveLength(20);
        expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(20);
        expect(batches.length).toBeLessThanOrEqual(5);
      } finally {
        await runner.stop();
      }
    });

    it("another process's commit reaches the runner by its coalesced NOTIFY", async () => {
      const name = 'wake-remote';
      const writer = new EventStore(t.db); // another process: its own signal and origin
      const runner = new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], { connectionString: t.url, ...asleep });
      try {
        runner.start();
        await eventually(() => runner.leaderOf, (l) => l.includes(name));
        await eventually(() => checkpoint(name), (c) => c !== undefined);
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) => writer.append(`wake-remote-stream-${i}`, [{ type: 'Thing', data: { i } }], 'no_stream')),
        );
        await writer.signal.drain();
        const rows = await eventually(
          () => sql<{ n: number }>`SELECT count(*)::int AS n FROM runner_log WHERE projection = ${name} AND stream_id LIKE 'wake-remote-stream-%'`.execute(t.db),
          (r) => r.rows[0].n >= 5,
          10_000,
        );
        expect(rows.rows[0].n).toBe(results.length);
      } finally {
        await runner.stop();
      }
    });

    it('events held behind an open transaction are picked up when it ends, though its end wakes nobody', async () => {
      const name = 'wake-fence';
      const runner = new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], { connectionString: t.url, ...asleep });
      const blocker = await t.client();
      try {
        runner.start();
        await eventually(() => checkpoint(name), (c) => c !== undefined);
        await blocker.query('BEGIN');
        await blocker.query('SELECT pg_current_xact_id()'); // an xid older than the append's: the fence
        const { events } = await appendSome('wake-fence-stream', 1); // its wake-up finds nothing deliverable
        await new Promise((r) => setTimeout(r, 200));
        expect(await log(name, 'wake-fence-stream')).toEqual([]);
        await blocker.query('COMMIT');
        const rows = await eventually(() => log(name, 'wake-fence-stream'), (r) => r.length >= 1, 10_000);
        expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await runner.stop();
      }
    });

    it('a checkpoint moved by someone else (a rebuild) is read afresh, nothing applied twice', async () => {
      const name = 'wake-moved';
      const runner = new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], { connectionString: t.url, ...asleep });
      try {
        runner.start();
        const first = await appendSome('wake-moved-stream', 2);
        await eventually(() => log(name, 'wake-moved-stream'), (r) => r.length >= 2, 10_000);
        // Another runner (a rebuild's switch) empties the projection and moves the checkpoint back.
        const other = new ProjectionRunner(t.db, store, [projection(name, { runner: 'b' })], { connectionString: t.url });
        await other.reset(other.projections[0]);
        const second = await appendSome('wake-moved-stream', 1);
        const rows = await eventually(() => log(name, 'wake-moved-stream'), (r) => r.length >= 3, 10_000);
        expect(rows.map((r) => r.event_id)).toEqual([...first.events, ...second.events].map((e) => e.eventId));
      } finally {
        await runner.stop();
      }
    });
  });

  describe('leadership', () => {
    it('two started runners: one leads and applies; when it stops the other takes over', async () => {
      const name = 'leadership';
      const options = { connectionString: t.url, leaderRetryMs: 50, pollIntervalMs: 50 };
      const runners = {
        a: new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], options),
        b: new ProjectionRunner(t.db, store, [projection(name, { runner: 'b' })], options),
      };
      const leaders = () => Object.entries(runners).filter(([, r]) => r.leaderOf.includes(name)).map(([k]) => k);
      try {
        runners.a.start();
        runners.b.start();
        const first = await eventually(leaders, (l) => l.length > 0);
        expect(first).toHaveLength(1);
        // Several follower retry rounds later there is still exactly one leader.
        for (let i = 0; i < 10; i++) {
          await new Promise((r) => setTimeout(r, 30));
          expect(leaders()).toEqual(first);
        }

        const before = await appendSome('leadership-stream', 3);
        const applied = await eventually(() => log(name, 'leadership-stream'), (rows) => rows.length >= 3);
        expect(applied.map((r) => r.event_id)).toEqual(before.events.map((e) => e.eventId));
        expect(new Set(applied.map((r) => r.runner))).toEqual(new Set(first));

        const [leader] = first as ('a' | 'b')[];
        const follower = leader === 'a' ? 'b' : 'a';
        const stoppedAt = Date.now();
        await runners[leader].stop();
        expect(runners[leader].leaderOf).toEqual([]);
        await eventually(leaders, (l) => l.length > 0, 5_000);
        expect(leaders()).toEqual([follower]);
        expect(Date.now() - stoppedAt).toBeLessThan(3_000);

        const after = await appendSome('leadership-stream', 2);
        const all = await eventually(() => log(name, 'leadership-stream'), (rows) => rows.length >= 5);
        expect(all.map((r) => r.event_id)).toEqual([...before.events, ...after.events].map((e) => e.eventId));
        expect(all.slice(3).map((r) => r.runner)).toEqual([follower, follower]);
      } finally {
        await Promise.all([runners.a.stop(), runners.b.stop()]);
      }
    });

    it('a leader whose connection dies loses the lock; exactly one session leads again', async () => {
      const name = 'leadership-killed';
      const options = { connectionString: t.url, leaderRetryMs: 50, pollIntervalMs: 50 };
      const runners = [
        new ProjectionRunner(t.db, store, [projection(name, { runner: 'a' })], options),
        new ProjectionRunner(t.db, store, [projection(name, { runner: 'b' })], options),
      ];
      const leaders = () => runners.filter((r) => r.leaderOf.includes(name));
      const lockHolders = async () =>
        (
          await sql<{ pid: number }>`
            SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
             WHERE l.locktype = 'advisory' AND l.granted AND a.datname = current_database()
               AND a.application_name = 'accountable-projector'`.execute(t.db)
        ).rows.map((r) => r.pid);
      try {
        runners.forEach((r) => r.start());
        await eventually(leaders, (l) => l.length > 0);
        const [before] = await lockHolders();
        expect(await lockHolders()).toEqual([before]);

        await sql`SELECT pg_terminate_backend(${before})`.execute(t.db);

        const after = await eventually(lockHolders, (pids) => pids.length === 1 && pids[0] !== before, 5_000);
        expect(after).toHaveLength(1);
        expect(after[0]).not.toBe(before);
        await eventually(leaders, (l) => l.length === 1, 5_000);
        expect(leaders()).toHaveLength(1);

        // The projection keeps being fed by whoever leads now.
        const { events } = await appendSome('leadership-killed-stream', 2);
        const rows = await eventually(() => log(name, 'leadership-killed-stream'), (r) => r.length >= 2);
        expect(rows.map((r) => r.event_id)).toEqual(events.map((e) => e.eventId));
      } finally {
        await Promise.all(runners.map((r) => r.stop()));
      }
    });
  });

  describe('projections added and removed while running (Event Streams sinks)', () => {
    const quick = { pollIntervalMs: 50, leaderRetryMs: 50 };

    it('an added projection is led and applied; removed, it stops at a checkpoint and its leadership goes to another process', async () => {
      const name = 'dynamic';
      const a = new ProjectionRunner(t.db, store, [], { connectionString: t.url, ...quick });
      const b = new ProjectionRunner(t.db, store, [projection(name, { runner: 'b' })], { connectionString: t.url, ...quick });
      try {
        a.start();
        a.add(projection(name, { runner: 'a' }));
        await eventually(() => a.leaderOf, (l) => l.includes(name));
        b.start(); // contends for the same name: a leads
        const first = await appendSome('dynamic-stream', 2);
        expect((await eventually(() => log(name, 'dynamic-stream'), (r) => r.length >= 2)).map((r) => [r.runner, r.event_id])).toEqual(
          first.events.map((e) => ['a', e.eventId]),
        );
        expect(b.leaderOf).toEqual([]);

        await a.remove(name);
        expect(a.leaderOf).toEqual([]);
        await eventually(() => b.leaderOf, (l) => l.includes(name));
        const second = await appendSome('dynamic-stream', 2);
        const rows = await eventually(() => log(name, 'dynamic-stream'), (r) => r.length >= 4);
        // Each event once: a's before the removal, b's after; nothing applied twice.
        expect(rows.map((r) => [r.runner, r.event_id])).toEqual([...first.events.map((e) => ['a', e.eventId]), ...second.events.map((e) => ['b', e.eventId])]);
      } finally {
        await Promise.all([a.stop(), b.stop()]);
      }
    });
  });
});
