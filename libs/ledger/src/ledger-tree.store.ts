import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { Frontier, HASH_BYTES, frontierNodes, lastLeafOf, type NodeRef, type PerfectNodes } from './merkle-tree';
import type { TreeHead } from './tree-head';

/**
 * The tree's storage: `ledger_leaves` (see migration 0011) through kysely's builder — so that a
 * rebuild's `withSchema` points it at the shadow table — and `ledger_heads`, always the live one.
 */

/** The stored tree is not a tree: rows missing or short. */
export class LedgerStorageError extends Error {
  override readonly name = 'LedgerStorageError';
  readonly code = 'ERR_LEDGER_STORAGE';
}

/** The hash of perfect subtree `level` within a leaf row's `hashes`. */
export function nodeHashIn(hashes: Buffer, level: number): Buffer | null {
  const start = level * HASH_BYTES;
  return hashes.length >= start + HASH_BYTES ? Buffer.from(hashes.subarray(start, start + HASH_BYTES)) : null;
}

export async function storedTreeSize(db: Kysely<Database>): Promise<number> {
  const last = await db.selectFrom('ledger_leaves').select('leaf_index').orderBy('leaf_index', 'desc').limit(1).executeTakeFirst();
  return last ? Number(last.leaf_index) + 1 : 0;
}

/** The stored perfect subtrees `refs`, in one query. */
export async function readNodes(db: Kysely<Database>, refs: readonly NodeRef[]): Promise<PerfectNodes> {
  const found = new Map<string, Buffer>();
  if (refs.length > 0) {
    const rows = await db
      .selectFrom('ledger_leaves')
      .select(['leaf_index', 'hashes'])
      .where('leaf_index', 'in', [...new Set(refs.map(lastLeafOf))])
      .execute();
    const byLeaf = new Map(rows.map((row) => [Number(row.leaf_index), row.hashes]));
    for (const ref of refs) {
      const hashes = byLeaf.get(lastLeafOf(ref));
      const hash = hashes && nodeHashIn(hashes, ref.level);
      if (!hash) throw new LedgerStorageError(`ledger: no stored subtree of 2^${ref.level} leaves ending at leaf ${lastLeafOf(ref)}`);
      found.set(`${ref.level}/${ref.index}`, hash);
    }
  }
  return (ref) => {
    const hash = found.get(`${ref.level}/${ref.index}`);
    if (!hash) throw new Error(`ledger: subtree ${ref.level}/${ref.index} was not read`);
    return hash;
  };
}

/** The right edge of the stored tree, to append to. */
export async function readFrontier(db: Kysely<Database>): Promise<Frontier> {
  const size = await storedTreeSize(db);
  const refs = frontierNodes(size);
  const node = await readNodes(db, refs);
  return new Frontier(
    size,
    refs.map((ref) => node(ref)),
  );
}

export interface LeafRow {
  leafIndex: number;
  globalPosition: number;
  hashes: Buffer;
}

export async function insertLeaves(db: Kysely<Database>, rows: readonly LeafRow[]): Promise<void> {
  if (rows.length === 0) return;
  // One array per column: three parameters whatever the batch size.
  await db
    .insertInto('ledger_leaves')
    .columns(['leaf_index', 'global_position', 'hashes'])
    .expression(
      sql`SELECT i, p, decode(h, 'hex') FROM unnest(${rows.map((r) => r.leafIndex)}::bigint[], ${rows.map((r) => r.globalPosition)}::bigint[], ${rows.map((r) =>
        r.hashes.toString('hex'),
      )}::text[]) AS r(i, p, h)`,
    )
    .execute();
}

interface HeadRow {
  tree_size: number;
  root_hash: Buffer;
  timestamp_ms: number;
  key_id: string;
  public_key: Buffer;
  signature: Buffer;
}

export function headOfRow(row: HeadRow): TreeHead {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    timestamp: Number(row.timestamp_ms),
    keyId: row.key_id,
    publicKey: row.public_key,
    signature: row.signature,
  };
}

// Heads are read and written with raw SQL naming the table unqualified: a rebuild's shadow
// schema (kysely's withSchema) never applies to them.

export async function insertHead(db: Kysely<Database>, head: TreeHead): Promise<void> {
  await sql`
    INSERT INTO ledger_heads (tree_size, root_hash, timestamp_ms, key_id, public_key, signature)
    VALUES (${head.treeSize}, ${head.rootHash}, ${head.timestamp}, ${head.keyId}, ${head.publicKey}, ${head.signature})
    ON CONFLICT (tree_size) DO NOTHING`.execute(db);
}

/** Heads with after < tree_size <= upTo, smallest first, at most `limit`. */
export async function readHeads(db: Kysely<Database>, after: number, upTo: number, limit = 10_000): Promise<TreeHead[]> {
  const { rows } = await sql<HeadRow>`
    SELECT tree_size, root_hash, timestamp_ms, key_id, public_key, signature FROM ledger_heads
     WHERE tree_size > ${after} AND tree_size <= ${upTo} ORDER BY tree_size LIMIT ${limit}`.execute(db);
  return rows.map(headOfRow);
}

export async function latestHead(db: Kysely<Database>): Promise<TreeHead | null> {
  const { rows } = await sql<HeadRow>`
    SELECT tree_size, root_hash, timestamp_ms, key_id, public_key, signature FROM ledger_heads ORDER BY tree_size DESC LIMIT 1`.execute(db);
  return rows[0] ? headOfRow(rows[0]) : null;
}

export async function headAt(db: Kysely<Database>, treeSize: number): Promise<TreeHead | null> {
  const heads = await readHeads(db, treeSize - 1, treeSize, 1);
  return heads[0] ?? null;
}
