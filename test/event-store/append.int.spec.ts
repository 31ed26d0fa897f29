import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  DuplicateEventIdError,
  EventStore,
  WrongExpectedVersionError,
  type ExpectedVersion,
  type NewEvent,
} from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const APPEND_SQL = `SELECT * FROM append_to_stream($1, 'any', NULL, $2::uuid[], $3::text[], $4::int[], $5::jsonb[], $6::jsonb[])`;

describe('EventStore.append', () => {
  let t: TestDatabase;
  let store: EventStore;
  let n = 0;
  const stream = () => `append-${++n}`;
  const ev = (type = 'Happened', data: Record<string, unknown> = {}): NewEvent => ({ eventId: randomUUID(), type, data });

  beforeAll(async () => {
    t = await createTestDatabase({ max: 25 });
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  async function stored(streamId: string) {
    const { rows } = await sql<{ stream_version: number; event_id: string }>`
      SELECT stream_version, event_id FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`.execute(t.db);
    const version = await store.streamVersion(streamId);
    return { versions: rows.map((r) => r.stream_version), ids: rows.map((r) => r.event_id), version };
  }

  async function totalEvents(): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(t.db);
    return rows[0].n;
  }

  async function waitForLockWaiter(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(t.db);
      if (rows[0].n > 0) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no session started waiting on a lock');
  }

  async function refused(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected the append to be refused');
      },
      (error: unknown) => error,
    );
  }

  describe('concurrent appends with the same expected version', () => {
    it.each<[string, ExpectedVersion, number]>([
      ['an exact version', 3, 3],
      ['no_stream', 'no_stream', 0],
      ['0 (stream must not exist)', 0, 0],
    ])('with %s: exactly one of 20 wins, the others get WrongExpectedVersionError', async (_, expected, existing) => {
      const id = stream();
      if (existing > 0) await store.append(id, Array.from({ length: existing }, () => ev()), 'no_stream');
      const batches = Array.from({ length: 20 }, (_, i) => [ev('Raced', { writer: i }), ev('Raced', { writer: i })]);

      const results = await Promise.allSettled(batches.map((events) => store.append(id, events, expected)));

      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [{ i, value: r.value }] : []));
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(won[0].value).toMatchObject({ nextVersion: existing + 2, written: true });
      expect(lost).toHaveLength(19);
      for (const error of lost) {
        expect(error).toBeInstanceOf(WrongExpectedVersionError);
        expect(error).toMatchObject({ streamId: id, expected, actual: existing + 2 });
      }
      const after = await stored(id);
      expect(after.version).toBe(existing + 2);
      expect(after.versions).toEqual(Array.from({ length: existing + 2 }, (_, i) => i + 1));
      expect(after.ids.slice(existing)).toEqual(batches[won[0].i].map((e) => e.eventId));
    });
  });

  describe('expected-version modes', () => {
    it('exact: appends at the expected version and numbers events consecutively', async () => {
      const id = stream();
      expect(await store.append(id, [ev(), ev()], 0)).toMatchObject({ nextVersion: 2, written: true });
      const r = await store.append(id, [ev(), ev(), ev()], 2);
      expect(r).toMatchObject({ nextVersion: 5, written: true });
      expect(r.lastPosition! - r.firstPosition!).toBe(2);
      expect(r.transactionId).toMatch(/^\d+$/);
      expect((await stored(id)).versions).toEqual([1, 2, 3, 4, 5]);
    });

    it.each<[string, number, ExpectedVersion]>([
      ['a lower exact version', 2, 1],
      ['a higher exact version', 2, 5],
      ['0 on an existing stream', 2, 0],
      ['no_stream on an existing stream', 2, 'no_stream'],
    ])('refuses %s with the expected and actual versions, writing nothing', async (_, existing, expected) => {
      const id = stream();
      await store.append(id, Array.from({ length: existing }, () => ev()), 'no_stream');
      const before = await totalEvents();

      const error = await refused(store.append(id, [ev()], expected));

      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamId: id, expected, actual: existing });
      expect(await totalEvents()).toBe(before);
      expect((await stored(id)).version).toBe(existing);
    });

    it.each<[string, ExpectedVersion]>([
      ['stream_exists', 'stream_exists'],
      ['an exact version above 0', 1],
    ])('refuses %s on a missing stream with actual null, creating nothing', async (_, expected) => {
      const id = stream();
      const error = await refused(store.append(id, [ev()], expected));
      expect(error).toBeInstanceOf(WrongExpectedVersionError);
      expect(error).toMatchObject({ streamId: id, expected, actual: null });
      expect(await stored(id)).toEqual({ versions: [], ids: [], version: null });
    });

    it('stream_exists appends to an existing stream', async () => {
      const id = stream();
      await store.append(id, [ev()], 'no_stream');
      expect(await store.append(id, [ev()], 'stream_exists')).toMatchObject({ nextVersion: 2, written: true });
      expect((await stored(id)).versions).toEqual([1, 2]);
    });

    it('any appends to a missing and to an existing stream', async () => {
      const id = stream();
      expect(await store.append(id, [ev()], 'any')).toMatchObject({ nextVersion: 1, written: true });
      expect(await store.append(id, [ev(), ev()], 'any')).toMatchObject({ nextVersion: 3, written: true });
      expect((await stored(id)).versions).toEqual([1, 2, 3]);
    });

    it('concurrent appends with any all succeed without gaps in the stream', async () => {
      const id = stream();
      const results = await Promise.all(Array.from({ length: 20 }, () => store.append(id, [ev(), ev()], 'any')));
      expect(results.map((r) => r.nextVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 2 * (i + 1)));
      expect((await stored(id)).versions).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it('refuses an empty append', async () => {
      await expect(store.append(stream(), [], 'any')).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('duplicate event ids', () => {
    it.each<[string, (first: ExpectedVersion) => ExpectedVersion]>([
      ['the same exact version', () => 0],
      ['no_stream', () => 'no_stream'],
      ['any', () => 'any'],
    ])('a retry at the same position with %s succeeds without writing and reports the original version', async (_, retryWith) => {
      const id = stream();
      const events = [ev(), ev()];
      const first = await store.append(id, events, 0);
      // Something else lands on the stream before the retry arrives.
      await store.append(id, [ev()], 2);
      const before = await totalEvents();

      const retry = await store.append(id, events, retryWith(0));

      // A retry must look like the original: reporting the stream's newer version would let the
      // caller believe its state includes the event at version 3.
      expect(retry).toEqual({ nextVersion: first.nextVersion, written: false });
      expect(await totalEvents()).toBe(before);
      expect((await stored(id)).ids.slice(0, 2)).toEqual(events.map((e) => e.eventId));
    });

    it('a retry with stream_exists at the same position succeeds without writing', async () => {
      const id = stream();
      await store.append(id, [ev()], 'no_stream');
      const events = [ev()];
      await store.append(id, events, 'stream_exists');
      const before = await totalEvents();
      expect(await store.append(id, events, 'stream_exists')).toEqual({ nextVersion: 2, written: false });
      expect(await totalEvents()).toBe(before);
    });

    it.each<[string, (ids: string[]) => { stream: 'same' | 'other'; events: string[]; expected: ExpectedVersion }]>([
      ['in another stream', (ids) => ({ stream: 'other', events: ids, expected: 'any' })],
      ['at another position of the stream', (ids) => ({ stream: 'same', events: [ids[0]], expected: 2 })],
      ['with an exact version that does not match where they sit', (ids) => ({ stream: 'same', events: ids, expected: 1 })],
      ['in another order', (ids) => ({ stream: 'same', events: [ids[1], ids[0]], expected: 0 })],
      ['mixed with new ids', (ids) => ({ stream: 'same', events: [ids[0], randomUUID()], expected: 0 })],
    ])('the same id %s is a DuplicateEventIdError and writes nothing', async (_, make) => {
      const id = stream();
      const original = [ev(), ev()];
      await store.append(id, original, 'no_stream');
      const before = await totalEvents();
      const attempt = make(original.map((e) => e.eventId!));
      const target = attempt.stream === 'same' ? id : stream();

      const error = await refused(store.append(target, attempt.events.map((eventId) => ({ eventId, type: 'Again', data: {} })), attempt.expected));

      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(error).toMatchObject({ streamId: target, eventIds: attempt.events });
      expect(await totalEvents()).toBe(before);
      expect(await store.streamVersion(target)).toBe(attempt.stream === 'same' ? 2 : null);
    });

    it('the same id twice in one append is a DuplicateEventIdError', async () => {
      const id = stream();
      const eventId = randomUUID();
      const error = await refused(store.append(id, [{ eventId, type: 'A', data: {} }, { eventId, type: 'B', data: {} }], 'any'));
      expect(error).toBeInstanceOf(DuplicateEventIdError);
      expect(await stored(id)).toEqual({ versions: [], ids: [], version: null });
    });

    it.each<[string, 'COMMIT' | 'ROLLBACK']>([
      ['commits', 'COMMIT'],
      ['rolls back', 'ROLLBACK'],
    ])('an id appended to another stream by a transaction in flight: typed error if it %s', async (_, outcome) => {
      const events = [ev(), ev()];
      const inFlight = stream();
      const target = stream();
      await store.append(target, [ev()], 'no_stream');
      const other = await t.client();
      await other.query('BEGIN');
      await other.query(APPEND_SQL, [inFlight, events.map((e) => e.eventId), ['A', 'A'], [1, 1], ['{}', '{}'], ['{}', '{}']]);

      // Passes the duplicate check (the other append is invisible) and then waits on its row.
      const racing = store.append(target, events, 1).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      await waitForLockWaiter();
      await other.query(outcome);
      const result = await racing;

      if (outcome === 'COMMIT') {
        expect('error' in result && result.error).toBeInstanceOf(DuplicateEventIdError);
        expect(result).toMatchObject({ error: { streamId: target, eventIds: events.map((e) => e.eventId), actual: 1 } });
        expect((await stored(target)).versions).toEqual([1]);
        expect((await stored(inFlight)).ids).toEqual(events.map((e) => e.eventId));
      } else {
        expect(result).toEqual({ value: expect.objectContaining({ nextVersion: 3, written: true }) });
        expect((await stored(target)).ids.slice(1)).toEqual(events.map((e) => e.eventId));
        expect((await stored(inFlight)).version).toBeNull();
      }
    });
  });
});
