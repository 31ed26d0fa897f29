import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { EventStore } from '../../event-store';
import type { FeedPosition, RecordedEvent } from '../../event.types';

const same = (a: FeedPosition, b: FeedPosition) => a.globalPosition === b.globalPosition && a.transactionId === b.transactionId;
const before = (a: FeedPosition, b: FeedPosition) => {
  const x = BigInt(a.transactionId);
  const y = BigInt(b.transactionId);
  return x < y || (x === y && a.globalPosition < b.globalPosition);
};
const positionOf = (event: RecordedEvent): FeedPosition => ({ transactionId: event.transactionId, globalPosition: event.globalPosition });

/** What a read gave: the events after the position asked for, and the stamp of the query they come from. */
export interface FeedRead {
  events: RecordedEvent[];
  issued: number;
}

interface Window {
  /** The events right after `from`, contiguous in feed order. */
  from: FeedPosition;
  events: RecordedEvent[];
  /** Nothing after the last event was below the fence when the query stamped `issued` ran. */
  complete: boolean;
  issued: number;
  /** Whether events wait above the fence after the window's end, asked once for everyone. */
  held?: Promise<boolean>;
}

/**
 * The feed as a runner's projections read it: one query for all of them. A runner with many
 * projections at the same place (every Event Streams sink of a process, each waking on every
 * commit) otherwise reads the same events once per projection, and under load those reads queue
 * on the pool in front of the work that matters.
 *
 * It keeps the latest stretch of the feed read (a window). Events below the fence never change
 * and nothing is ever inserted among them, so a stretch once read stays true: a projection whose
 * position lies in it takes the events after it from memory. At the window's end a projection
 * needs a query issued after the latest commit signal (`signal`, so that the commit that woke it
 * is seen) and, when it retries because events wait behind the fence, after the read that came
 * back empty (`notBefore`); a query already in flight from the same position that meets this is
 * joined rather than repeated. Stamps come from one counter, bumped by each signal and each query.
 */
export class SharedFeed {
  private clock = 0;
  private signalled = 0;
  private window?: Window;
  private readonly inFlight = new Set<{ from: FeedPosition; issued: number; read: Promise<RecordedEvent[]> }>();

  constructor(
    private readonly store: EventStore,
    private readonly db: Kysely<Database>,
    private readonly batchSize: number,
    /** Events kept for projections a little behind the others. */
    private readonly keep = batchSize * 4,
  ) {}

  /** A commit was signalled: reads at a window's end must start after this. */
  signal(): void {
    this.signalled = ++this.clock;
  }

  /** Whether a commit was signalled after the query stamped `issued` started. */
  signalledSince(issued: number): boolean {
    return this.signalled > issued;
  }

  /** The stamp of the next query: `read(from, next())` is a read that starts after this call. */
  next(): number {
    return this.clock + 1;
  }

  /** Up to batchSize events after `from`, from a query stamped `notBefore` or later when none are known yet. */
  async read(from: FeedPosition, notBefore: number): Promise<FeedRead> {
    const need = Math.max(notBefore, this.signalled + 1);
    const window = this.window;
    const start = window ? this.indexAfter(window, from) : -1;
    if (window && start >= 0) {
      const events = window.events.slice(start, start + this.batchSize);
      if (events.length > 0) return { events, issued: window.issued };
      if (window.complete && window.issued >= need) return { events, issued: window.issued };
    }
    for (const flight of this.inFlight) {
      if (flight.issued >= need && same(flight.from, from)) return { events: await flight.read, issued: flight.issued };
    }
    const flight = { from, issued: ++this.clock, read: this.store.readFeed(from, this.batchSize, this.db) };
    this.inFlight.add(flight);
    try {
      const events = await flight.read;
      this.remember(from, events, flight.issued);
      return { events, issued: flight.issued };
    } finally {
      this.inFlight.delete(flight);
    }
  }

  /**
   * Whether committed events after `position` wait behind the fence (EventStore.heldBack): asked
   * once per window end for every projection there, otherwise of the store.
   */
  heldBack(position: FeedPosition): Promise<boolean> {
    const window = this.window;
    if (!window || !window.complete || !same(this.end(window), position)) return this.store.heldBack(position, this.db);
    window.held ??= this.store.heldBack(position, this.db).catch((error: unknown) => {
      window.held = undefined;
      throw error;
    });
    return window.held;
  }

  /** Forgets what was read (e.g. the feed was reset under the runner). */
  clear(): void {
    this.window = undefined;
  }

  /** Index in the window of the first event after `from`, -1 when the window does not hold `from`. */
  private indexAfter(window: Window, from: FeedPosition): number {
    if (same(window.from, from)) return 0;
    const events = window.events;
    let low = 0;
    let high = events.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = positionOf(events[middle]);
      if (same(at, from)) return middle + 1;
      if (before(at, from)) low = middle + 1;
      else high = middle - 1;
    }
    return -1;
  }

  private end(window: Window): FeedPosition {
    const last = window.events[window.events.length - 1];
    return last ? positionOf(last) : window.from;
  }

  /** Keeps a read when it reaches further than the window, or as far but later. */
  private remember(from: FeedPosition, events: RecordedEvent[], issued: number): void {
    const complete = events.length < this.batchSize;
    const end = events.length ? positionOf(events[events.length - 1]) : from;
    const window = this.window;
    if (window) {
      const windowEnd = this.end(window);
      if (before(end, windowEnd) || (same(end, windowEnd) && issued <= window.issued)) return;
      const start = this.indexAfter(window, from);
      if (start >= 0) {
        // Contiguous with what is known: extend it, keeping the newest `keep` events.
        const joined = window.events.slice(0, start).concat(events);
        const dropped = Math.max(joined.length - this.keep, 0);
        this.window = {
          from: dropped > 0 ? positionOf(joined[dropped - 1]) : window.from,
          events: dropped > 0 ? joined.slice(dropped) : joined,
          complete,
          issued,
        };
        return;
      }
    }
    this.window = { from, events, complete, issued };
  }
}
