import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@accountable/database';
import type { RecordedEvent } from '../event.types';

/**
 * A read model or process manager fed from the global feed; the ProjectionRunner beside it runs
 * them (checkpoints, leadership, parked events), and ProjectionAdmin rebuilds them.
 */
export interface Projection {
  /** Checkpoint key and leadership lock name; stable. */
  readonly name: string;
  /**
   * Applies a batch inside the transaction that also advances the checkpoint, so the batch's
   * effect and the checkpoint commit together or not at all (the pool itself for
   * `ownTransactions` projections).
   */
  apply(executor: Kysely<Database>, events: readonly RecordedEvent[]): Promise<void>;
  /**
   * A process manager whose effects are appends of its own (each in its own short transaction,
   * idempotent by event id) sets this. The runner then applies the batch outside any
   * transaction and moves the checkpoint afterwards: holding a batch transaction (and its xid)
   * open through a long cascade would stop the feed's fence — every other projection — for
   * that long. A crash between the effects and the checkpoint replays the batch; the effects'
   * deterministic ids make that harmless.
   */
  readonly ownTransactions?: boolean;
  /**
   * A projection whose every event builds on all before it (the ledger's tree: a skipped event is
   * a hole in it) sets this. The runner then never parks one of its events: a failure that would
   * park stops the projection at that batch — nothing of it applied, the checkpoint unmoved — and
   * reports it (ProjectionHaltedError, an error in the log, its lag growing) until the cause is
   * gone; a rebuild fails the same way instead of parking.
   */
  readonly neverPark?: boolean;
  /**
   * A projection whose cost is mostly per batch (the ledger: its tree's statements and a signed
   * head each batch) sets this: after a batch that did not fill, its runner waits this many ms
   * before reading the feed again, so that under load the events committed meanwhile come as one
   * batch instead of one each — the projection then lags by up to this much more. Held back by
   * the fence, it looks again after this long too, not at every commit.
   */
  readonly paceMs?: number;
  /** Empties the projection's tables, for a rebuild from position zero. */
  reset(trx: Transaction<Database>): Promise<void>;
}
