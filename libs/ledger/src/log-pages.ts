import type pg from 'pg';
import { BinaryEventEncoder, COPY_EVENT_COLUMNS } from './binary-event-encoder';
import { copyOut } from './copy-out';
import { HASH_BYTES } from './merkle-tree';

/** A place in feed order: (transaction id as decimal text, global position). */
export interface FeedKey {
  tx: string;
  gp: number;
}

export const FEED_START: FeedKey = { tx: '0', gp: 0 };

export const sameKey = (a: FeedKey, b: FeedKey) => a.tx === b.tx && a.gp === b.gp;

/** A page of the log, each event reduced to what the walk in feed order needs; its first `rows` places hold them. */
export interface LogPage {
  rows: number;
  /** The leaf hashes, HASH_BYTES per row. */
  hashes: Buffer;
  positions: Float64Array;
  /** The event ids, 16 bytes per row (`uuidText` reads them). */
  eventIds: Buffer;
}

/**
 * The events `after < key ≤ end`, in feed order, each hashed as it arrives (BinaryEventEncoder: no
 * row becomes an object). By COPYs of at most `pageSize` rows: the LIMIT makes PostgreSQL walk the
 * feed index (bounds alone led it to a sort under parallel workers, and to a wait for the whole
 * page), and rows beyond what the bounds held when they were found (a log changed meanwhile) are
 * read by the next COPY, so that none is skipped.
 */
export async function readLogPage(pool: pg.Pool, encoder: BinaryEventEncoder, after: FeedKey, end: FeedKey, pageSize: number): Promise<LogPage> {
  let capacity = pageSize;
  const page: LogPage = { rows: 0, hashes: Buffer.alloc(HASH_BYTES * capacity), positions: new Float64Array(capacity), eventIds: Buffer.alloc(16 * capacity) };
  for (let from = after; ; ) {
    let rows = 0;
    let last = from;
    await copyOut(
      pool,
      `COPY (SELECT ${COPY_EVENT_COLUMNS} FROM events
              WHERE (transaction_id, global_position) > ('${from.tx}'::xid8, ${from.gp}::bigint)
                AND (transaction_id, global_position) <= ('${end.tx}'::xid8, ${end.gp}::bigint)
              ORDER BY transaction_id, global_position LIMIT ${pageSize}) TO STDOUT (FORMAT binary)`,
      (tuple) => {
        if (page.rows === capacity) {
          capacity *= 2;
          page.hashes = grown(page.hashes, HASH_BYTES * capacity);
          page.eventIds = grown(page.eventIds, 16 * capacity);
          const positions = new Float64Array(capacity);
          positions.set(page.positions);
          page.positions = positions;
        }
        // The encoder is free again when this call returns: a tuple is encoded, and read from it, within it.
        encoder.leafHashInto(tuple, page.hashes, HASH_BYTES * page.rows);
        page.positions[page.rows] = encoder.globalPosition;
        encoder.copyEventId(page.eventIds, 16 * page.rows);
        page.rows += 1;
        rows += 1;
        if (rows === pageSize) last = { tx: encoder.transactionId(), gp: encoder.globalPosition };
      },
    );
    if (rows < pageSize || sameKey(last, end)) return page;
    from = last;
  }
}

function grown(buffer: Buffer, size: number): Buffer {
  const bigger = Buffer.alloc(size);
  buffer.copy(bigger);
  return bigger;
}
