import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { STORED_EVENT_COLUMNS, eventLeafHash, storedEventOf, type StoredEvent, type StoredEventRow } from './event-encoding';
import { headAt, latestHead, nodeHashIn, readNodes } from './ledger-tree.store';
import { inclusionPath, nodesRead, verifyInclusion } from './merkle-tree';
import { HeadFormatError, headFromJson, headToJson, signatureHolds, type TreeHead, type TreeHeadJson } from './tree-head';

export interface InclusionProof {
  event: StoredEvent;
  leafIndex: number;
  leafHash: Buffer;
  head: TreeHead;
  path: Buffer[];
}

export type ProveOutcome =
  | { kind: 'proof'; proof: InclusionProof }
  /** No such event, or not in the ledger yet. */
  | { kind: 'unknown_event' }
  /** In the ledger, but after the head asked for (or after every signed head, for now). */
  | { kind: 'not_yet_signed'; leafIndex: number; treeSize: number | null }
  | { kind: 'no_such_head'; treeSize: number };

/** An inclusion proof of the event with this id, against the head of `treeSize` (default: the latest head). */
export async function proveEvent(db: Kysely<Database>, eventId: string, treeSize?: number): Promise<ProveOutcome> {
  const { rows } = await sql<StoredEventRow & { leaf_index: number; hashes: Buffer }>`
    SELECT l.leaf_index, l.hashes, e.*
      FROM (SELECT ${sql.raw(STORED_EVENT_COLUMNS)} FROM events WHERE event_id = ${eventId}::uuid) e
      JOIN ledger_leaves l ON l.global_position = e.global_position`.execute(db);
  const row = rows[0];
  if (!row) return { kind: 'unknown_event' };
  const leafIndex = Number(row.leaf_index);
  const head = treeSize === undefined ? await latestHead(db) : await headAt(db, treeSize);
  if (treeSize !== undefined && !head) return { kind: 'no_such_head', treeSize };
  if (!head || leafIndex >= head.treeSize) return { kind: 'not_yet_signed', leafIndex, treeSize: head?.treeSize ?? null };
  const compute = (node: Parameters<typeof inclusionPath>[2]) => inclusionPath(leafIndex, head.treeSize, node);
  const path = compute(await readNodes(db, nodesRead(compute)));
  return { kind: 'proof', proof: { event: storedEventOf(row), leafIndex, leafHash: nodeHashIn(row.hashes, 0)!, head, path } };
}

/** An inclusion proof as JSON (`ledger prove --json`, the file `ledger check --proof` reads). */
export interface InclusionProofJson {
  event_id: string;
  leaf_index: number;
  leaf_hash: string;
  tree_size: number;
  inclusion_path: string[];
  head: TreeHeadJson;
  /** The event as hashed (README "The ledger"); the HTTP API leaves it out. */
  event?: StoredEvent;
}

export function proofToJson(proof: InclusionProof, withEvent: boolean): InclusionProofJson {
  return {
    event_id: proof.event.event_id,
    leaf_index: proof.leafIndex,
    leaf_hash: proof.leafHash.toString('hex'),
    tree_size: proof.head.treeSize,
    inclusion_path: proof.path.map((hash) => hash.toString('hex')),
    head: headToJson(proof.head),
    ...(withEvent ? { event: proof.event } : {}),
  };
}

export interface OfflineCheck {
  ok: boolean;
  /** Each check made, in order, with its outcome. */
  checks: { check: string; ok: boolean }[];
}

/**
 * `ledger check`: with nothing but the two documents, whether the head's signature holds and the
 * proof leads from the event (its canonical encoding, when the proof carries it) to the head's root.
 */
export function checkProofOffline(headJson: unknown, proofJson: unknown): OfflineCheck {
  const checks: { check: string; ok: boolean }[] = [];
  const done = () => ({ ok: checks.every((c) => c.ok), checks });
  const head = headFromJson(headJson);
  checks.push({ check: `the head (${head.treeSize} events, key ${head.keyId}) is signed by its key`, ok: signatureHolds(head) });
  if (typeof proofJson !== 'object' || proofJson === null) throw new HeadFormatError('a proof is a JSON object');
  const p = proofJson as Record<string, unknown>;
  const leafIndex = p.leaf_index;
  const treeSize = p.tree_size;
  if (typeof leafIndex !== 'number' || !Number.isSafeInteger(leafIndex) || typeof treeSize !== 'number' || !Number.isSafeInteger(treeSize)) {
    throw new HeadFormatError('the proof needs leaf_index and tree_size');
  }
  const hex = (value: unknown, field: string): Buffer => {
    if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) throw new HeadFormatError(`${field} must be 64 lower-case hex characters`);
    return Buffer.from(value, 'hex');
  };
  const leafHash = hex(p.leaf_hash, 'leaf_hash');
  if (!Array.isArray(p.inclusion_path) || p.inclusion_path.length > 64) throw new HeadFormatError('inclusion_path must be a list of at most 64 hashes');
  const path = p.inclusion_path.map((h, i) => hex(h, `inclusion_path[${i}]`));
  if (p.event !== undefined) {
    let matches = false;
    try {
      matches = eventLeafHash(p.event as StoredEvent).equals(leafHash);
    } catch {
      matches = false;
    }
    checks.push({ check: 'the event in the proof hashes to its leaf_hash', ok: matches });
  }
  checks.push({ check: `the proof is against this head's size (${treeSize} = ${head.treeSize})`, ok: treeSize === head.treeSize });
  if (treeSize !== head.treeSize) return done();
  checks.push({ check: `leaf ${leafIndex} is in the tree of ${treeSize} with the head's root`, ok: verifyInclusion(leafIndex, treeSize, leafHash, path, head.rootHash) });
  return done();
}
