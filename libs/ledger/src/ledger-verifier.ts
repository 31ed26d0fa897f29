import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type pg from 'pg';
import { BinaryEventEncoder, COPY_EVENT_COLUMNS } from './binary-event-encoder';
import { copyOut } from './copy-out';
import { latestHead, readHeads, storedTreeSize } from './ledger-tree.store';
import { Frontier, HASH_BYTES, consistencyPath, nodesRead, verifyConsistency, type NodeRef } from './merkle-tree';
import { signatureHolds, type TreeHead } from './tree-head';
import { LEDGER_PROJECTION } from './ledger.projection';

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
  /** The same database as `db`: the log is read by binary COPY, which kysely cannot do. */
  pool: pg.Pool;
  /** Heads kept outside (by an auditor): the log must extend each of them. */
  heads?: readonly { source: string; head: TreeHead }[];
  pageSize?: number;
  onProgress?: (done: number, total: number) => void;
}

const nodeKey = (ref: NodeRef) => `${ref.level}/${ref.index}`;

/** A page of stored leaves, by place in the page (leaf index − the page's first). */
interface PageLeaves {
  /** Places 0..count-1 may hold a leaf. */
  count: number;
  /** The leaf's global position, −1 where the page has no leaf. */
  position: Float64Array;
  /** Whether the leaf's stored subtree `level` is `hash`. */
  holds(place: number, level: number, hash: Buffer): boolean;
  /** Whether the leaf's stored subtrees are exactly `completed`. */
  holdsAll(place: number, completed: readonly Buffer[]): boolean;
}

const NO_LEAVES: PageLeaves = { count: 0, position: new Float64Array(0), holds: () => false, holdsAll: () => false };

/** The stored leaves `first ≤ leaf_index < first + count`, by binary COPY (their hashes kept in one buffer, compared in place). */
async function readStoredLeaves(pool: pg.Pool, first: number, count: number): Promise<PageLeaves> {
  const position = new Float64Array(count).fill(-1);
  const start = new Int32Array(count);
  const end = new Int32Array(count);
  let bytes = Buffer.alloc(count * 2 * HASH_BYTES);
  let used = 0;
  await copyOut(
    pool,
    `COPY (SELECT leaf_index, global_position, hashes FROM ledger_leaves
            WHERE leaf_index >= ${first} AND leaf_index < ${first + count} ORDER BY leaf_index) TO STDOUT (FORMAT binary)`,
    (tuple) => {
      // 3 fields: int8 leaf_index, int8 global_position, bytea hashes (each after its int32 length).
      const place = Number(tuple.readBigInt64BE(6)) - first;
      const length = tuple.readInt32BE(26);
      if (used + length > bytes.length) {
        const bigger = Buffer.alloc(Math.max(bytes.length * 2, used + length));
        bytes.copy(bigger, 0, 0, used);
        bytes = bigger;
      }
      tuple.copy(bytes, used, 30, 30 + length);
      position[place] = Number(tuple.readBigInt64BE(18));
      start[place] = used;
      end[place] = used + length;
      used += length;
    },
  );
  const holds = (place: number, level: number, hash: Buffer) => {
    const at = start[place] + level * HASH_BYTES;
    return at + HASH_BYTES <= end[place] && bytes.compare(hash, 0, HASH_BYTES, at, at + HASH_BYTES) === 0;
  };
  return {
    count,
    position,
    holds,
    holdsAll(place, completed) {
      if (end[place] - start[place] !== completed.length * HASH_BYTES) return false;
      for (let level = 0; level < completed.length; level++) if (!holds(place, level, completed[level])) return false;
      return true;
    },
  };
}

/**
 * Recomputes every leaf and subtree from the events table, in feed order, page by page (memory
 * does not grow with the log), and compares: each leaf and subtree with the stored tree, each
 * stored head's root (and signature, and key) with the recomputed root at its size, and each
 * given head through an RFC 9162 consistency proof from its size to the whole log. Reads only.
 */
export async function verifyLedger(db: Kysely<Database>, options: VerifyLedgerOptions): Promise<LedgerVerifyReport> {
  const pageSize = options.pageSize ?? 10_000;
  // In this order: the ledger's checkpoint commits with its leaves, so read after them it covers
  // every leaf counted here; the log is verified up to it or the fence, whichever is further. The
  // fence alone is not enough: the ledger applied what was below the fence its runner saw, which
  // leaves the feed readers' transactions out (feed_fence(), migration 0020) and may be ahead of
  // this session's (another role sees no other role's transaction ids, and so waits for them).
  const headsUpTo = (await latestHead(db))?.treeSize ?? 0;
  const leavesStored = await storedTreeSize(db);
  const recorded = await db
    .selectFrom('projection_checkpoints')
    .select(['transaction_id as tx', 'global_position as gp'])
    .where('name', '=', LEDGER_PROJECTION)
    .executeTakeFirst();
  const fenced = (
    await sql<{ tx: string; gp: number }>`
      SELECT transaction_id::text AS tx, global_position AS gp FROM events
       WHERE transaction_id < feed_fence()
       ORDER BY transaction_id DESC, global_position DESC LIMIT 1`.execute(db)
  ).rows[0] ?? { tx: '0', gp: 0 };
  const until = recorded && isAfter({ tx: String(recorded.tx), gp: Number(recorded.gp) }, fenced) ? { tx: String(recorded.tx), gp: Number(recorded.gp) } : fenced;
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

  // Page by page in feed order, each page one binary COPY whose rows are hashed as they arrive
  // (BinaryEventEncoder: no row becomes an object), PostgreSQL producing the next rows meanwhile;
  // the stored leaves of the next page are read on another connection while this one is hashed.
  const encoder = new BinaryEventEncoder();
  const readLeaves = (first: number): Promise<PageLeaves> => (first < leavesStored ? readStoredLeaves(options.pool, first, pageSize) : Promise.resolve(NO_LEAVES));
  let exact: LedgerDifference | null = null;
  let after = { tx: '0', gp: 0 };
  let nextLeaves = readLeaves(0);
  for (;;) {
    const first = frontier.size;
    const leaves = await nextLeaves;
    nextLeaves = readLeaves(first + pageSize);
    // Awaited in turn; if this page fails first, the read in flight must not go unhandled.
    nextLeaves.catch(() => undefined);
    if (heads.length === 0 && first < headsUpTo) heads = await readHeads(db, first, Math.min(headsUpTo, first + pageSize), pageSize);
    let rows = 0;
    let txHi = 0;
    let txLo = 0;
    await copyOut(
      options.pool,
      `COPY (SELECT ${COPY_EVENT_COLUMNS} FROM events
              WHERE (transaction_id, global_position) > ('${after.tx}'::xid8, ${after.gp}::bigint)
                AND (transaction_id, global_position) <= ('${until.tx}'::xid8, ${until.gp}::bigint)
              ORDER BY transaction_id, global_position LIMIT ${pageSize}) TO STDOUT (FORMAT binary)`,
      (tuple) => {
        const leafHash = encoder.leafHash(tuple);
        txHi = encoder.txHi;
        txLo = encoder.txLo;
        const r = rows++;
        const completed = frontier.append(leafHash);
        const index = frontier.size - 1;
        if (wanted.size > 0) {
          for (let level = 0; level < completed.length; level++) {
            const key = nodeKey({ level, index: (index + 1) / 2 ** level - 1 });
            if (wanted.has(key)) wanted.set(key, completed[level]);
          }
        }
        if (!exact && index < leavesStored) {
          const position = encoder.globalPosition;
          const at = (reason: string): LedgerDifference => ({ from: index, to: index, globalPosition: position, eventId: encoder.eventId(), reason });
          const stored = leaves.position[r];
          if (r >= leaves.count || stored < 0) exact = at(`the ledger has no leaf ${index}`);
          else if (stored !== position) exact = at(`leaf ${index} recorded the event at global position ${stored}; the log now has the event at ${position} there (removed, inserted or reordered)`);
          else if (!leaves.holds(r, 0, completed[0])) exact = at(`the event at global position ${position} changed since the ledger recorded it`);
          else if (!leaves.holdsAll(r, completed)) exact = at(`the stored subtrees ending at leaf ${index} differ from the recomputed ones`);
        }
        while (heads.length > 0 && heads[0].treeSize === frontier.size) checkStoredHead(heads.shift()!, frontier.root());
        if (rootsAt.has(frontier.size)) rootsAt.set(frontier.size, frontier.root());
      },
    );
    if (rows > 0) after = { tx: (BigInt(txHi) * 0x100000000n + BigInt(txLo)).toString(), gp: encoder.globalPosition };
    options.onProgress?.(frontier.size, Math.max(total, frontier.size));
    if (rows < pageSize) break;
  }
  await nextLeaves.catch(() => undefined);

  const events = frontier.size;
  const root = frontier.root();
  if (!exact && leavesStored > events) exact = { from: events, to: events, globalPosition: null, eventId: null, reason: `the ledger has ${leavesStored} leaves but the log only ${events} events: events were removed` };
  if (exact) differences.unshift(exact);
  if (heads.length === 0) heads = await readHeads(db, frontier.size, headsUpTo, 1000);
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

/** Whether feed position `a` comes after `b` (transaction id, then global position). */
function isAfter(a: { tx: string; gp: number }, b: { tx: string; gp: number }): boolean {
  const x = BigInt(a.tx);
  const y = BigInt(b.tx);
  return x > y || (x === y && a.gp > b.gp);
}
