import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';

/** The channel projectors in other processes LISTEN on. */
export const FEED_CHANNEL = 'accountable_events';

/**
 * "The feed may have new events": said by a writer *after* its transaction has committed, never
 * from inside it (a transaction that notifies serialises every commit behind a database-wide
 * lock; see migration 0006).
 *
 * Listeners in this process hear it at once. Other processes hear a NOTIFY on FEED_CHANNEL, sent
 * from its own short transaction and coalesced: while one is in flight, any number of further
 * commits ask for just one more after it, so a burst of appends costs a couple of notifications.
 * A lost signal (a failed NOTIFY, a crash between commit and signal) only delays projectors until
 * their next poll.
 */
export class FeedSignal {
  /** The payload of this process's notifications, so that its own projectors can skip them. */
  readonly origin = randomUUID();
  private readonly listeners = new Set<() => void>();
  private inFlight?: Promise<void>;
  private again = false;

  constructor(private readonly db: Kysely<Database>) {}

  /** Calls `listener` on every commit signalled in this process; returns the unsubscribe. */
  listen(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  committed(): void {
    for (const listener of this.listeners) listener();
    this.broadcast();
  }

  /** Resolves once no NOTIFY is in flight; call before the pool closes. */
  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private broadcast(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = this.send().finally(() => {
      this.inFlight = undefined;
      if (this.again) {
        this.again = false;
        this.broadcast();
      }
    });
  }

  private async send(): Promise<void> {
    // A notifying transaction still takes NOTIFY's commit lock; not waiting for the WAL flush
    // keeps that short, and a notification is not durable anyway.
    await sql`SELECT set_config('synchronous_commit', 'off', true), pg_notify(${FEED_CHANNEL}, ${this.origin})`
      .execute(this.db)
      .catch(() => undefined);
  }
}
