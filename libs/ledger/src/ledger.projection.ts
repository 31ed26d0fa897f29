import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '@accountable/database';
import type { Projection, RecordedEvent } from '@accountable/event-store';
import { STORED_EVENT_COLUMNS, eventLeafHash, storedEventOf, type StoredEventRow } from './event-encoding';
import { insertHead, insertLeaves, latestHead, readFrontier, readHeads, type LeafRow } from './ledger-tree.store';
import type { HeadSigner } from './tree-head';

/**
 * A stored head disagrees with the tree recomputed from the log: the log changed under it.
 * (The projection is `neverPark`: this stops it, it never skips an event.)
 */
export class LedgerForkError extends Error {
  override readonly name = 'LedgerForkError';
  readonly code = 'ERR_LEDGER_FORK';
  constructor(
    readonly treeSize: number,
    readonly lastAgreeingSize: number,
  ) {
    super(
      `ledger: the log's first ${treeSize} events no longer hash to the root signed for that size (the heads up to ${lastAgreeingSize} agree): ` +
        `an event at a position from ${lastAgreeingSize} to ${treeSize - 1} was changed, removed or inserted; nothing was signed (run ledger verify)`,
    );
  }
}

/** This process holds another key than the one the ledger's heads are signed with. */
export class LedgerKeyChangedError extends Error {
  override readonly name = 'LedgerKeyChangedError';
  readonly code = 'ERR_LEDGER_KEY_CHANGED';
  constructor(stored: string, held: string) {
    super(
      `ledger: the latest head is signed by key ${stored}, this process holds key ${held}; nothing was signed. ` +
        'Give every process the ledger key (LEDGER_SIGNING_KEY, or the same DATA_DIR/ledger-signing.key)',
    );
  }
}

/** How long the ledger's runner lets events gather after a batch that did not fill (Projection.paceMs). */
export const LEDGER_PACE_MS = 25;

/**
 * What the ledger's endpoints and commands answer when LEDGER=off (no process runs the
 * projection). One text, so that every surface says the same.
 */
export const LEDGER_OFF_MESSAGE =
  'The ledger is off on this service (LEDGER=off): no tree is kept and no head is signed while it is off; with LEDGER=on (the default) it catches up from where it stopped';

/** The ledger's projection name: its checkpoint's row in projection_checkpoints. */
export const LEDGER_PROJECTION = 'ledger';

/**
 * The `ledger` projection: appends each event, in feed order, as a leaf of an RFC 9162 Merkle
 * tree and signs a tree head after every batch. The feed's order is final below its fence, so
 * the tree only grows, and a rebuild from position zero makes exactly the same tree.
 *
 * It hashes the stored row (raw, never upcast, time to the microsecond), read again here by
 * position. Events above the fence are skipped: a rebuild's switch applies those early for the
 * read models' sake, and the feed delivers them again in their final order.
 *
 * Heads already stored are evidence: a batch reaching a stored head's size must recompute that
 * head's root, or it fails (LedgerForkError) — so a rebuild over a rewritten log fails rather
 * than sign it. Only sizes beyond the latest head are signed, and only with the key of that head.
 */
export class LedgerProjection implements Projection {
  readonly name = LEDGER_PROJECTION;
  /** For the blue-green rebuild: the tree is rebuilt, the heads are kept. */
  readonly tables = ['ledger_leaves'];
  /** A skipped event would be a hole in the tree, and every later root wrong: stop instead (Projection.neverPark). */
  readonly neverPark = true;
  /**
   * Its cost is per batch (four statements and an Ed25519 head): under load, one batch (and one
   * head) per LEDGER_PACE_MS rather than one per commit. Caught up, the last batch still signs a
   * head over the whole log, in the transaction that moves the checkpoint.
   */
  readonly paceMs = LEDGER_PACE_MS;

  constructor(
    private readonly signer: HeadSigner,
    private readonly clock: () => number = Date.now,
  ) {}

  async apply(db: Kysely<Database>, events: readonly RecordedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { rows } = await sql<StoredEventRow>`
      SELECT ${sql.raw(STORED_EVENT_COLUMNS)} FROM events
       WHERE global_position = ANY (${events.map((e) => e.globalPosition)}::bigint[])
         AND transaction_id < feed_fence()`.execute(db);
    if (rows.length === 0) return;
    const stored = new Map(rows.map((row) => [Number(row.global_position), row]));

    const frontier = await readFrontier(db);
    const start = frontier.size;
    const end = start + rows.length;
    const latest = await latestHead(db);
    const heads = latest && latest.treeSize > start ? await readHeads(db, start, end, end - start) : [];
    let lastAgreeing = start;
    const leaves: LeafRow[] = [];
    for (const event of events) {
      const row = stored.get(event.globalPosition);
      if (!row) continue;
      const completed = frontier.append(eventLeafHash(storedEventOf(row)));
      leaves.push({ leafIndex: frontier.size - 1, globalPosition: event.globalPosition, hashes: Buffer.concat(completed) });
      if (heads.length > 0 && heads[0].treeSize === frontier.size) {
        if (!frontier.root().equals(heads.shift()!.rootHash)) throw new LedgerForkError(frontier.size, lastAgreeing);
        lastAgreeing = frontier.size;
      }
    }
    await insertLeaves(db, leaves);
    if (!latest || frontier.size > latest.treeSize) {
      if (latest && latest.keyId !== this.signer.keyId) throw new LedgerKeyChangedError(latest.keyId, this.signer.keyId);
      await insertHead(db, this.signer.sign(frontier.size, frontier.root(), this.clock()));
    }
  }

  /** Empties the tree (a rebuild from position zero); the signed heads stay, to be checked again. */
  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('ledger_leaves').execute();
  }
}
