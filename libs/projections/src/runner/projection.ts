import type { Transaction } from 'kysely';
import type { Database } from '@accountable/database';
import type { RecordedEvent } from '@accountable/event-store';

/** A read model fed from the global feed. */
export interface Projection {
  /** Checkpoint key and leadership lock name; stable. */
  readonly name: string;
  /**
   * Applies a batch inside the transaction that also advances the checkpoint, so the batch's
   * effect and the checkpoint commit together or not at all.
   */
  apply(trx: Transaction<Database>, events: readonly RecordedEvent[]): Promise<void>;
  /** Empties the projection's tables, for a rebuild from position zero. */
  reset(trx: Transaction<Database>): Promise<void>;
}
