import { EventStore, WrongExpectedVersionError } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('event store smoke', () => {
  let t: TestDatabase;
  let store: EventStore;
  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
  });
  afterAll(() => t.destroy());

  it('appends and reads back', async () => {
    const r = await store.append('s-1', [{ type: 'a', data: { x: 1 } }, { type: 'b', data: { y: 2 } }], 'no_stream');
    expect(r).toMatchObject({ nextVersion: 2, written: true });
    await expect(store.append('s-1', [{ type: 'c', data: {} }], 1)).rejects.toBeInstanceOf(WrongExpectedVersionError);
    const events = await store.readStream('s-1');
    expect(events.map((e) => [e.streamVersion, e.type])).toEqual([[1, 'a'], [2, 'b']]);
    const feed = await store.readFeed({ transactionId: '0', globalPosition: 0 }, 10);
    expect(feed).toHaveLength(2);
  });
});
