import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, FEED_START, Upcasters } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('EventStore.readStream', () => {
  let t: TestDatabase;
  let store: EventStore;

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  describe('ranges', () => {
    const id = 'read-ranges';
    beforeAll(async () => {
      // One append per event: each gets its own transaction and so its own recorded_at.
      for (let v = 1; v <= 6; v++) {
        await store.append(id, [{ type: 'Counted', data: { n: v }, metadata: { actorType: 'test' } }], v - 1);
        await new Promise((r) => setTimeout(r, 3));
      }
      await store.append('read-ranges-other', [{ type: 'Counted', data: { n: 0 } }], 'any');
    });

    const versions = async (options: Parameters<EventStore['readStream']>[1]) =>
      (await store.readStream(id, options)).map((e) => e.streamVersion);

    it('reads the whole stream in version order with every field', async () => {
      const events = await store.readStream(id);
      expect(events.map((e) => e.streamVersion)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(events[0]).toEqual({
        globalPosition: expect.any(Number),
        transactionId: expect.stringMatching(/^\d+$/),
        streamId: id,
        streamVersion: 1,
        eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        type: 'Counted',
        schemaVersion: 1,
        data: { n: 1 },
        metadata: { actorType: 'test' },
        recordedAt: expect.any(Date),
      });
    });

    it('fromVersion and toVersion are inclusive bounds', async () => {
      expect(await versions({ fromVersion: 3 })).toEqual([3, 4, 5, 6]);
      expect(await versions({ toVersion: 2 })).toEqual([1, 2]);
      expect(await versions({ fromVersion: 2, toVersion: 4 })).toEqual([2, 3, 4]);
      expect(await versions({ fromVersion: 7 })).toEqual([]);
      expect(await versions({ fromVersion: 4, toVersion: 3 })).toEqual([]);
    });

    it('until returns what was recorded at or before the instant, including an event read back as the bound', async () => {
      const all = await store.readStream(id);
      for (const event of all) {
        // recordedAt comes back with millisecond precision while the column keeps microseconds:
        // an event's own recordedAt must still include it.
        expect(await versions({ until: event.recordedAt })).toEqual(all.filter((e) => e.recordedAt <= event.recordedAt).map((e) => e.streamVersion));
        expect(await versions({ until: event.recordedAt })).toContain(event.streamVersion);
      }
      expect(await versions({ until: new Date(all[0].recordedAt.getTime() - 1) })).toEqual([]);
      expect(await versions({ until: all[3].recordedAt, fromVersion: 3 })).toEqual([3, 4]);
    });

    it('an unknown stream reads as empty', async () => {
      expect(await store.readStream('read-missing')).toEqual([]);
    });
  });

  describe('upcasting', () => {
    it('lifts old schema versions on read, through every registered step, and leaves the stored row unchanged', async () => {
      const id = `upcast-${randomUUID()}`;
      await store.append(
        id,
        [
          { type: 'Renamed', schemaVersion: 1, data: { name: 'Ada Lovelace' } },
          { type: 'Renamed', schemaVersion: 2, data: { first: 'Grace', last: 'Hopper' } },
          { type: 'Renamed', schemaVersion: 3, data: { first: 'Alan', last: 'Turing', display: 'A. Turing' } },
          { type: 'Other', schemaVersion: 1, data: { name: 'untouched' } },
        ],
        'no_stream',
      );
      const upcasters = new Upcasters()
        .register('Renamed', 1, (d) => {
          const [first, last] = String(d.name).split(' ');
          return { first, last };
        })
        .register('Renamed', 2, (d) => ({ ...d, display: `${String(d.first)[0]}. ${String(d.last)}` }));
      const upcasting = new EventStore(t.db, upcasters);

      const events = await upcasting.readStream(id);

      expect(events.map((e) => [e.schemaVersion, e.data])).toEqual([
        [3, { first: 'Ada', last: 'Lovelace', display: 'A. Lovelace' }],
        [3, { first: 'Grace', last: 'Hopper', display: 'G. Hopper' }],
        [3, { first: 'Alan', last: 'Turing', display: 'A. Turing' }],
        [1, { name: 'untouched' }],
      ]);
      // The feed upcasts the same way. It is fenced by the oldest transaction on the server,
      // which other test files share: wait for the events rather than expect them at once.
      const deadline = Date.now() + 15_000;
      let feed = await upcasting.readFeed(FEED_START, 1000);
      while (feed.filter((e) => e.streamId === id).length < 4 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        feed = await upcasting.readFeed(FEED_START, 1000);
      }
      expect(feed.filter((e) => e.streamId === id).map((e) => e.data)).toEqual(events.map((e) => e.data));

      const { rows } = await sql<{ schema_version: number; data: unknown }>`
        SELECT schema_version, data FROM events WHERE stream_id = ${id} ORDER BY stream_version`.execute(t.db);
      expect(rows).toEqual([
        { schema_version: 1, data: { name: 'Ada Lovelace' } },
        { schema_version: 2, data: { first: 'Grace', last: 'Hopper' } },
        { schema_version: 3, data: { first: 'Alan', last: 'Turing', display: 'A. Turing' } },
        { schema_version: 1, data: { name: 'untouched' } },
      ]);
      // A store without upcasters still sees the stored shape.
      expect((await store.readStream(id))[0]).toMatchObject({ schemaVersion: 1, data: { name: 'Ada Lovelace' } });
    });

    it('refuses a second upcaster for the same type and version', () => {
      const upcasters = new Upcasters().register('X', 1, (d) => d);
      expect(() => upcasters.register('X', 1, (d) => d)).toThrow();
    });
  });
});
