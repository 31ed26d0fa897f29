import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { DB } from '@accountable/platform';
import { IdempotencyStore } from './idempotency.store';

/** Often enough that a day's expired keys never pile up; rare enough to cost nothing. */
const PRUNE_EVERY_MS = 10 * 60_000;
/** Rows per DELETE: each statement stays short, and so do the row locks it holds. */
const PRUNE_BATCH = 5_000;

/**
 * Deletes Idempotency-Keys past their lifetime, which the API already ignores: without it the
 * table would only grow. Run by the processes that do background work (the projector role);
 * several at once only share the work (locked rows are skipped).
 */
@Injectable()
export class IdempotencyKeyPruner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IdempotencyKeyPruner');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: IdempotencyStore,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), PRUNE_EVERY_MS);
    this.timer.unref();
    this.tick();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Deletes every expired key, a batch at a time; returns how many. */
  async pruneAll(batch = PRUNE_BATCH): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.store.pruneExpired(this.db, batch);
      total += deleted;
      if (deleted < batch) return total;
    }
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.pruneAll()
      .then((deleted) => {
        if (deleted > 0) this.logger.log(`deleted ${deleted} expired idempotency keys`);
      })
      .catch((error: unknown) => this.logger.warn(`pruning idempotency keys failed: ${(error as Error).message}`))
      .finally(() => (this.running = undefined));
  }
}
