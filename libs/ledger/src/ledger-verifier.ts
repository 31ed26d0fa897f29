import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { STORED_EVENT_COLUMNS, eventLeafHash, storedEventOf, type StoredEventRow } from './event-encoding';
import { latestHead, readHeads, storedTreeSize } from './ledger-tree.store';
import { Frontier, HASH_BYTES, consistencyPath, nodesRead, verifyConsistency, type NodeRef } from './merkle-tree';
import { signatureHolds, type TreeHead } from './tree-head';

/** Where the log first differs from what the ledger recorded or signed: one leaf, or a range when only heads say so. */
export interface LedgerDifference {
  /** Leaf indexes (0-based positions in feed order); equal when known exactly. */
  from: number;
  to: number;
  /** The event now at `from` in the log, when exact. */
  globalPosition: number | null;
  eventId: string | null;
  reason: string;
}

export interface GivenHeadCheck {
  source: string;
  treeSize: number;
  ok: boolean;
  reason: string;
}

export interface LedgerVerifyReport {
  ok: boolean;
  /** Events in the log (feed order, below the fence when the verification started). */
  events: number;
  leavesStored: number;
  storedHeadsChecked: number;
  /** The root recomputed from the log. */
  rootHash: string;
  firstDifference: LedgerDifference | null;
  problems: string[];
  givenHeads: GivenHeadCheck[];
}

export interface VerifyLedgerOptions {
  /** The ledger's own public key: every stored and given head must be signed by it. */
  keyId: string;
  /** Heads kept outside (by an auditor): the log must extend each of them. */
  heads?: readonly { source: string; head: TreeHead }[];
  pageSize?: number;
  onProgress?: (done: number, total: number) => void;
}

interface TxRow extends StoredEventRow {
  tx: string;
}

const nodeKey = (ref: NodeRef) => `${ref.level}/${ref.index}`;

/** Events hashed between two turns of the event loop (see the page loop). */
const YIELD_EVERY = 500;

/** Whether `hashes` holds `hash` at perfect-subtree level `level`, compared in place. */
function sameHash(hashes: Buffer, level: number, hash: Buffer): boolean {
  const start = level * HASH_BYTES;
  return hashes.length >= start + HASH_BYTES && hashes.compare(hash, 0, HASH_BYTES, start, start + HASH_BYTES) === 0;
}

/** Whether a stored leaf row's `hashes` are exactly the subtrees recomputed for it. */
function sameHashes(hashes: Buffer, completed: readonly Buffer[]): boolean {
  if (hashes.length !== completed.length * HASH_BYTES) return false;
  for (let level = 0; level < completed.length; level++) if (!sameHash(hashes, level, completed[level])) return false;
  return true;
}

/**
 * Recomputes every leaf and subtree from the events table, in feed order, page by page (memory
 * does not grow with the log), and compares: each leaf and subtree with the stored tree, each
 * stored head's root (and signature, and key) with the recomputed root at its size, and each
 * given head through an RFC 9162 consistency proof from its size to the whole log. Reads only.
 */
export async function verifyLedger(db: Kysely<Database>, options: VerifyLedgerOptions): Promise<LedgerVerifyReport> {
  const pageSize = options.pageSize ?? 2000;
  // In this order: what the ledger had recorded by now is all below the fence read next.
  const headsUpTo = (await latestHead(db))?.treeSize ?? 0;
  const leavesStored = await storedTreeSize(db);
  const until = (
    await sql<{ tx: string; gp: number }>`
      SELECT transaction_id::text AS tx, global_position AS gp FROM events
       WHERE transaction_id < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`.execute(db)
  ).rows[0] ?? { tx: '0', gp: 0 };
  const total = Number(
    (await sql<{ n: number }>`SELECT count(*)::bigint AS n FROM events WHERE (transaction_id, global_position) <= (${until.tx}::xid8, ${until.gp}::bigint)`.execute(db)).rows[0].n,
  );

  const problems: string[] = [];
  const differences: LedgerDifference[] = [];
  const given = (options.heads ?? []).map(({ source, head }) => ({ source, head, check: { source, treeSize: head.treeSize, ok: true, reason: 'consistent' } as GivenHeadCheck }));
  for (const g of given) {
    if (!signatureHolds(g.head)) fail(g.check, 'its signature does not hold');
    else if (g.head.keyId !== options.keyId) fail(g.check, `signed by key ${g.head.keyId}, not by this ledger's key ${options.keyId}`);
  }
  // The subtrees the consistency proofs will need, caught as the recomputation completes them.
  const wanted = new Map<string, Buffer | null>();
  for (const g of given) {
    if (g.head.treeSize > 0 && g.head.treeSize < total) for (const ref of nodesRead((node) => consistencyPath(g.head.treeSize, total, node))) wanted.set(nodeKey(ref), null);
  }
  const rootsAt = new Map<number, Buffer>();
  for (const g of given) rootsAt.set(g.head.treeSize, Buffer.alloc(0));

  const frontier = new Frontier();
  let storedHeadsChecked = 0;
  let lastAgreeing = 0;
  let heads = await readHeads(db, 0, headsUpTo, 1000);
  const checkStoredHead = (head: TreeHead, root: Buffer | null) => {
    storedHeadsChecked += 1;
    if (!signatureHolds(head)) problems.push(`stored head of size ${head.treeSize}: its signature does not hold`);
    else if (head.keyId !== options.keyId) problems.push(`stored head of size ${head.treeSize}: signed by key ${head.keyId}, not by this ledger's key ${options.keyId}`);
    if (root === null) {
      differences.push(range(lastAgreeing, frontier.size, `a head is signed for ${head.treeSize} events but the log has only ${frontier.size}: events were removed`));
    } else if (!root.equals(head.rootHash)) {
      differences.push(range(lastAgreeing, head.treeSize - 1, `the first ${head.treeSize} events no longer hash to the root signed for them`));
    } else lastAgreeing = Math.max(lastAgreeing, head.treeSize);
  };

  // One page read ahead: the database reads and sends the next page while this process hashes
  // one. Hashing yields to the event loop every YIELD_EVERY events so that the rows arriving meanwhile
  // are taken off the socket (else the server stops sending once the socket's buffer is full).
  interface Page {
    rows: TxRow[];
    /** The stored leaf for each row (by its place in the page), if any. */
    stored: ({ global_position: number; hashes: Buffer } | undefined)[];
  }
  const readPage = async (after: { tx: string; gp: number }, first: number): Promise<Page> => {
    const { rows } = await sql<TxRow>`
      SELECT transaction_id::text AS tx, ${sql.raw(STORED_EVENT_COLUMNS)} FROM events
       WHERE (transaction_id, global_position) > (${after.tx}::xid8, ${after.gp}::bigint)
         AND (transaction_id, global_position) <= (${until.tx}::xid8, ${until.gp}::bigint)
       ORDER BY events.transaction_id, events.global_position LIMIT ${pageSize}`.execute(db);
    const stored: Page['stored'] = new Array(rows.length);
    if (rows.length && first < leavesStored) {
      const leaves = await db
        .selectFrom('ledger_leaves')
        .select(['leaf_index', 'global_position', 'hashes'])
        .where('leaf_index', '>=', first)
        .where('leaf_index', '<', first + rows.length)
        .execute();
      for (const leaf of leaves) stored[Number(leaf.leaf_index) - first] = leaf;
    }
    return { rows, stored };
  };
  let exact: LedgerDifference | null = null;
  let next: Promise<Page> | undefined = readPage({ tx: '0', gp: 0 }, 0);
  while (next) {
    const page: Page = await next;
    const { rows, stored } = page;
    if (rows.length === 0) break;
    const last: TxRow = rows[rows.length - 1];
    next = rows.length === pageSize ? readPage({ tx: last.tx, gp: Number(last.global_position) }, frontier.size + rows.length) : undefined;
    // Awaited in turn; if this page fails first, the read in flight must not go unhandled.
    next?.catch(() => undefined);
    for (let r = 0; r < rows.length; r++) {
      if (r % YIELD_EVERY === YIELD_EVERY - 1) await new Promise(setImmediate);
      const row = rows[r];
      const completed = frontier.append(eventLeafHash(storedEventOf(row)));
      const index = frontier.size - 1;
      if (wanted.size > 0) {
        for (let level = 0; level < completed.length; level++) {
          const key = nodeKey({ level, index: (index + 1) / 2 ** level - 1 });
          if (wanted.has(key)) wanted.set(key, completed[level]);
        }
      }
      if (!exact && index < leavesStored) {
        const leaf = stored[r];
        const position = Number(row.global_position);
        const at = (reason: string): LedgerDifference => ({ from: index, to: index, globalPosition: position, eventId: row.event_id, reason });
        if (!leaf) exact = at(`the ledger has no leaf ${index}`);
        else if (Number(leaf.global_position) !== position)
          exact = at(`leaf ${index} recorded the event at global position ${leaf.global_position}; the log now has the event at ${position} there (removed, inserted or reordered)`);
        else if (!sameHash(leaf.hashes, 0, completed[0])) exact = at(`the event at global position ${position} changed since the ledger recorded it`);
        else if (!sameHashes(leaf.hashes, completed)) exact = at(`the stored subtrees ending at leaf ${index} differ from the recomputed ones`);
      }
      while (heads.length > 0 && heads[0].treeSize === frontier.size) checkStoredHead(heads.shift()!, frontier.root());
      if (heads.length === 0 && frontier.size < headsUpTo) heads = await readHeads(db, frontier.size, headsUpTo, 1000);
      if (rootsAt.has(frontier.size)) rootsAt.set(frontier.size, frontier.root());
    }
    options.onProgress?.(frontier.size, Math.max(total, frontier.size));
  }

  const events = frontier.size;
  const root = frontier.root();
  if (!exact && leavesStored > events) exact = { from: events, to: events, globalPosition: null, eventId: null, reason: `the ledger has ${leavesStored} leaves but the log only ${events} events: events were removed` };
  if (exact) differences.unshift(exact);
  for (; heads.length > 0; heads = await readHeads(db, heads[heads.length - 1].treeSize, headsUpTo, 1000)) for (const head of heads) checkStoredHead(head, null);

  // A given head's failure is placed after the largest given head that holds: heads kept outside
  // are the only evidence an attacker could not have rewritten or had signed afresh since.
  const failedGiven: typeof given = [];
  for (const g of given) {
    if (!g.check.ok) continue;
    const m = g.head.treeSize;
    if (m > events) {
      fail(g.check, `it is signed for ${m} events but the log has only ${events}: events were removed`);
      failedGiven.push(g);
      continue;
    }
    const rootThen = rootsAt.get(m);
    const proven =
      m === events
        ? root.equals(g.head.rootHash)
        : events === total &&
          rootThen !== undefined &&
          rootThen.equals(g.head.rootHash) &&
          verifyConsistency(m, events, g.head.rootHash, root, consistencyPath(m, events, (ref) => wanted.get(nodeKey(ref)) ?? Buffer.alloc(32)));
    if (!proven) {
      fail(g.check, events === total ? `the log does not extend it: its first ${m} events no longer hash to the signed root` : 'the log changed while it was read; run verify again');
      failedGiven.push(g);
    }
  }
  for (const g of failedGiven) {
    const m = g.head.treeSize;
    const from = Math.max(0, ...given.filter((h) => h.check.ok && h.head.treeSize < m).map((h) => h.head.treeSize));
    differences.push(range(from, Math.min(m, events + 1) - 1, `the log's first ${m} events are not those of head ${g.source}`));
  }

  differences.sort((a, b) => (a === exact ? -1 : b === exact ? 1 : a.to - b.to || a.from - b.from));
  for (const g of given) if (!g.check.ok) problems.push(`head ${g.source}: ${g.check.reason}`);
  for (const d of differences) problems.push(d.from === d.to ? `position ${d.from}: ${d.reason}` : `positions ${d.from}..${d.to}: ${d.reason}`);
  return {
    ok: problems.length === 0,
    events,
    leavesStored,
    storedHeadsChecked,
    rootHash: root.toString('hex'),
    firstDifference: differences[0] ?? null,
    problems,
    givenHeads: given.map((g) => g.check),
  };
}

function fail(check: GivenHeadCheck, reason: string): void {
  check.ok = false;
  check.reason = reason;
}

function range(from: number, to: number, reason: string): LedgerDifference {
  return { from, to: Math.max(from, to), globalPosition: null, eventId: null, reason };
}
