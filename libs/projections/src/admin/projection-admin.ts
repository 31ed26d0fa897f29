import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { FEED_START, type EventStore, type FeedPosition } from '@accountable/event-store';
import { CheckpointStore } from '../runner/checkpoint-store';
import type { Projection } from '../runner/projection';

export interface ProjectionStatus {
  name: string;
  checkpoint: FeedPosition;
  /** Events stored beyond the checkpoint. */
  lagEvents: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  lagSeconds: number;
  updatedAt: Date | null;
}

export interface RebuildProgress {
  applied: number;
  total: number;
}

/** A projection and the tables it owns (rebuilt side by side in the `rebuild` schema). */
export interface RebuildableProjection extends Projection {
  readonly tables: readonly string[];
}

const REBUILD_SCHEMA = 'rebuild';

/** Feed order: (transaction id, global position); transaction ids are xid8, compared as integers. */
function before(a: FeedPosition, b: FeedPosition): boolean {
  const ta = BigInt(a.transactionId);
  const tb = BigInt(b.transactionId);
  return ta < tb || (ta === tb && a.globalPosition < b.globalPosition);
}

export class ProjectionAdmin {
  private readonly checkpoints: CheckpointStore;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EventStore,
  ) {
    this.checkpoints = new CheckpointStore(db);
  }

  async status(names: readonly string[]): Promise<ProjectionStatus[]> {
    const result: ProjectionStatus[] = [];
    for (const name of names) {
      const checkpoint = await this.checkpoints.get(name);
      const { rows } = await sql<{ lag_events: number; oldest: Date | null; updated_at: Date | null }>`
        SELECT (SELECT count(*) FROM events e
                 WHERE (e.transaction_id, e.global_position) > (${checkpoint.transactionId}::xid8, ${checkpoint.globalPosition}::bigint))::bigint AS lag_events,
               (SELECT min(e.recorded_at) FROM events e
                 WHERE (e.transaction_id, e.global_position) > (${checkpoint.transactionId}::xid8, ${checkpoint.globalPosition}::bigint)) AS oldest,
               (SELECT updated_at FROM projection_checkpoints WHERE name = ${name}) AS updated_at`.execute(this.db);
      const row = rows[0];
      result.push({
        name,
        checkpoint,
        lagEvents: Number(row.lag_events),
        lagSeconds: row.oldest ? Math.max(0, (Date.now() - row.oldest.getTime()) / 1000) : 0,
        updatedAt: row.updated_at,
      });
    }
    return result;
  }

  /**
   * Blue-green rebuild. The new version of the projection's tables is built in the `rebuild`
   * schema from position zero, in batches (constant memory), while the live tables keep serving.
   * The switch is one transaction: lock the live tables against writes (reads go on), apply what
   * arrived meanwhile, replace the live rows with the rebuilt ones and move the checkpoint. The
   * rebuilt side is then dropped.
   *
   * The last step also applies committed events beyond the feed's fence (visible to this
   * snapshot): a command that committed after the fence moved must not lose its inline write.
   * Those events will come through the feed again later; every projection applies idempotently.
   */
  async rebuild(projection: RebuildableProjection, batchSize = 5000, onProgress?: (p: RebuildProgress) => void): Promise<RebuildProgress> {
    const total = Number((await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM events`.execute(this.db)).rows[0].n);
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(REBUILD_SCHEMA)}`.execute(this.db);
    for (const table of projection.tables) {
      await sql`DROP TABLE IF EXISTS ${sql.id(REBUILD_SCHEMA, table)}`.execute(this.db);
      await sql`CREATE TABLE ${sql.id(REBUILD_SCHEMA, table)} (LIKE ${sql.id('public', table)} INCLUDING ALL)`.execute(this.db);
    }
    const shadow = (executor: Kysely<Database>) => executor.withSchema(REBUILD_SCHEMA);
    let position: FeedPosition = FEED_START;
    let applied = 0;
    // One batch; returns how many events it applied.
    const batch = async (executor: Kysely<Database>): Promise<number> => {
      const events = await this.store.readFeed(position, batchSize, executor);
      if (events.length === 0) return 0;
      await projection.apply(shadow(executor) as never, events);
      const last = events[events.length - 1];
      position = { transactionId: last.transactionId, globalPosition: last.globalPosition };
      applied += events.length;
      onProgress?.({ applied, total: Math.max(total, applied) });
      return events.length;
    };
    const catchUp = async (executor: Kysely<Database>) => {
      while ((await batch(executor)) > 0);
    };
    try {
      // Most of the work, each batch in its own short transaction: a long one would hold an
      // xid and stall every live projection behind the feed's fence.
      // Up to the head as it was when we started: with writes going on, chasing the live head
      // batch by batch might never end. The switch below applies the rest under its lock.
      const head = await this.store.feedHead();
      while (before(position, head)) {
        if ((await this.db.transaction().execute((trx) => batch(trx))) === 0) break;
      }
      await this.db.transaction().execute(async (trx) => {
        for (const table of projection.tables) await sql`LOCK TABLE ${sql.id('public', table)} IN EXCLUSIVE MODE`.execute(trx);
        await catchUp(trx);
        const tail = await this.store.readAfterFence(position, trx);
        if (tail.length) await projection.apply(shadow(trx) as never, tail);
        for (const table of projection.tables) {
          await sql`DELETE FROM ${sql.id('public', table)}`.execute(trx);
          await sql`INSERT INTO ${sql.id('public', table)} SELECT * FROM ${sql.id(REBUILD_SCHEMA, table)}`.execute(trx);
        }
        await trx
          .insertInto('projection_checkpoints')
          .values({ name: projection.name, transaction_id: position.transactionId, global_position: position.globalPosition })
          .onConflict((oc) =>
            oc.column('name').doUpdateSet({ transaction_id: position.transactionId, global_position: position.globalPosition, updated_at: sql<Date>`now()` }),
          )
          .execute();
        onProgress?.({ applied: applied + tail.length, total: Math.max(total, applied + tail.length) });
      });
    } finally {
      for (const table of projection.tables) await sql`DROP TABLE IF EXISTS ${sql.id(REBUILD_SCHEMA, table)}`.execute(this.db);
    }
    return { applied, total };
  }
}
