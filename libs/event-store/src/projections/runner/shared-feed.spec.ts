import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { EventStore } from '../../event-store';
import { FEED_START, type FeedPosition, type RecordedEvent } from '../../event.types';
import { SharedFeed } from './shared-feed';

/** A feed in memory: `visible` events are below the fence; each readFeed / heldBack is counted. */
class FakeFeed {
  events: RecordedEvent[] = [];
  visible = 0;
  reads = 0;
  heldQuestions = 0;

  add(count: number, visible = true): void {
    for (let i = 0; i < count; i++) {
      const n = this.events.length + 1;
      this.events.push({ globalPosition: n, transactionId: String(100 + n), streamId: 's', streamVersion: n, eventId: `e${n}`, type: 'T', schemaVersion: 1, data: {}, metadata: {}, recordedAt: new Date(0) });
    }
    if (visible) this.visible = this.events.length;
  }

  readonly store = {
    readFeed: async (after: FeedPosition, limit: number) => {
      this.reads += 1;
      return this.events.slice(0, this.visible).filter((e) => e.globalPosition > after.globalPosition).slice(0, limit);
    },
    heldBack: async (after: FeedPosition) => {
      this.heldQuestions += 1;
      return this.events.some((e) => e.globalPosition > after.globalPosition);
    },
  } as unknown as EventStore;
}

const at = (e: RecordedEvent): FeedPosition => ({ transactionId: e.transactionId, globalPosition: e.globalPosition });
const db = {} as Kysely<Database>;

describe('SharedFeed: one read of the feed for every projection of a runner', () => {
  it('serves projections at the same place from one query, and behind ones from what it holds', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 10);
    feed.add(6);
    shared.signal();
    const first = await shared.read(FEED_START, 0);
    expect(first.events.map((e) => e.globalPosition)).toEqual([1, 2, 3, 4, 5, 6]);
    // A second projection at the start, and one half-way, woken by the same signal.
    expect((await shared.read(FEED_START, 0)).events).toHaveLength(6);
    expect((await shared.read(at(first.events[2]), 0)).events.map((e) => e.globalPosition)).toEqual([4, 5, 6]);
    expect(feed.reads).toBe(1);
  });

  it('concurrent reads from one place share the query in flight', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 10);
    feed.add(3);
    shared.signal();
    const results = await Promise.all(Array.from({ length: 32 }, () => shared.read(FEED_START, 0)));
    expect(results.every((r) => r.events.length === 3)).toBe(true);
    expect(feed.reads).toBe(1);
  });

  it('at the end of what it holds, a commit signalled since the last query makes it read again', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 10);
    feed.add(2);
    shared.signal();
    const first = await shared.read(FEED_START, 0);
    const end = at(first.events[1]);
    // No signal since: nothing new to look for.
    expect((await shared.read(end, 0)).events).toEqual([]);
    expect(feed.reads).toBe(1);
    feed.add(1);
    shared.signal();
    expect((await shared.read(end, 0)).events.map((e) => e.globalPosition)).toEqual([3]);
    expect(feed.reads).toBe(2);
  });

  it('a retry for the fence (notBefore past the empty read) queries again without a signal', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 10);
    feed.add(2);
    feed.add(1, false); // committed, held behind an open transaction
    shared.signal();
    const first = await shared.read(FEED_START, 0);
    const end = at(first.events[1]);
    const empty = await shared.read(end, 0);
    expect(empty.events).toEqual([]);
    expect(await shared.heldBack(end)).toBe(true);
    expect(await shared.heldBack(end)).toBe(true);
    expect(feed.heldQuestions).toBe(1); // asked once for every projection there
    feed.visible = 3; // the transaction ended: no signal for it
    expect((await shared.read(end, empty.issued + 1)).events.map((e) => e.globalPosition)).toEqual([3]);
  });

  it('reads a full batch again at its end: more may follow without a signal', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 2);
    feed.add(3);
    shared.signal();
    const first = await shared.read(FEED_START, 0);
    expect(first.events).toHaveLength(2);
    expect((await shared.read(at(first.events[1]), 0)).events.map((e) => e.globalPosition)).toEqual([3]);
    // Extended, not replaced: a projection still at the start is served from memory.
    expect((await shared.read(FEED_START, 0)).events).toHaveLength(2);
    expect(feed.reads).toBe(2);
  });

  it('a read that began before a signal is not joined by a projection woken after it', async () => {
    const feed = new FakeFeed();
    const shared = new SharedFeed(feed.store, db, 10);
    feed.add(1);
    shared.signal();
    const early = shared.read(FEED_START, 0);
    feed.add(1);
    shared.signal();
    const late = await shared.read(FEED_START, 0);
    expect((await early).events).toHaveLength(1);
    expect(late.events).toHaveLength(2);
    expect(feed.reads).toBe(2);
  });
});
