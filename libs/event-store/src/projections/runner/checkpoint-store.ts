import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { FEED_START, type FeedPosition } from '../../event.types';

export class CheckpointStore {
  constructor(private readonly db: Kysely<Database>) {}

  async get(name: string, executor: Kysely<Database> = this.db): Promise<FeedPosition> {
    await executor.insertInto('projection_checkpoints').values({ name }).onConflict((oc) => oc.column('name').doNothing()).execute();
    const row = await executor
      .selectFrom('projection_checkpoints')
      .select(['transaction_id', 'global_position'])
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return { transactionId: String(row.transaction_id), globalPosition: row.global_position };
  }

  /**
   * Compare-and-set: moves the checkpoint from `from` to `to` only if it is still at `from`.
   * A second runner that read the same checkpoint loses here and its transaction rolls back.
   */
  async advance(executor: Kysely<Database>, name: string, from: FeedPosition, to: FeedPosition): Promise<boolean> {
    const result = await executor
      .updateTable('projection_checkpoints')
      .set({ transaction_id: to.transactionId, global_position: to.globalPosition, updated_at: sql<Date>`now()` })
      .where('name', '=', name)
      .where('transaction_id', '=', sql<string>`${from.transactionId}::xid8`)
      .where('global_position', '=', from.globalPosition)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async reset(executor: Kysely<Database>, name: string): Promise<void> {
    await executor
      .insertInto('projection_checkpoints')
      .values({ name, transaction_id: FEED_START.transactionId, global_position: FEED_START.globalPosition })
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({ transaction_id: FEED_START.transactionId, global_position: FEED_START.globalPosition, updated_at: sql<Date>`now()` }),
      )
      .execute();
  }
}
