import { createHash, createPublicKey, verify } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';

/**
 * An outsider's recomputation of the ledger, from the README's description alone and none of
 * libs/ledger: the canonical encoding, RFC 9162's MTH and audit-path walk, and the head's
 * Ed25519 signature through a JWK. Tests check the ledger's answers against this.
 */
const H = (...parts: (Buffer | string)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

/** Sorted keys, no whitespace: RFC 8785 for the strings, integers, booleans and nulls our events hold. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface RefEvent {
  global_position: number;
  event_id: string;
  leaf: Buffer;
}

/** Every event in feed order with its leaf hash, as the README says to compute it. */
export async function referenceLeaves(db: Kysely<Database>): Promise<RefEvent[]> {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT global_position, stream_id, stream_version, event_id::text AS event_id, type, schema_version, data, metadata,
           to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at
      FROM events ORDER BY transaction_id, global_position`.execute(db);
  return rows.map((row) => ({
    global_position: Number(row.global_position),
    event_id: String(row.event_id),
    leaf: H(
      Buffer.from([0]),
      canonical({
        ...row,
        global_position: Number(row.global_position),
        stream_version: Number(row.stream_version),
        schema_version: Number(row.schema_version),
      }),
    ),
  }));
}

export function referenceRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return H();
  if (leaves.length === 1) return leaves[0];
  const k = 2 ** Math.ceil(Math.log2(leaves.length) - 1);
  return H(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** The root an audit path leads to, walking RFC 9162's PATH recursion from the top; null if it does not fit. */
export function referenceRootFromPath(index: number, size: number, leaf: Buffer, path: readonly Buffer[]): Buffer | null {
  const rest = [...path];
  const walk = (m: number, n: number): Buffer | null => {
    if (n === 1) return leaf;
    const sibling = rest.pop();
    if (!sibling) return null;
    const k = 2 ** Math.ceil(Math.log2(n) - 1);
    const inner = m < k ? walk(m, k) : walk(m - k, n - k);
    return inner && (m < k ? H(Buffer.from([1]), inner, sibling) : H(Buffer.from([1]), sibling, inner));
  };
  const root = walk(index, size);
  return rest.length === 0 ? root : null;
}

/** A head file's signature, checked from its fields and public key alone. */
export function referenceSignatureHolds(head: { tree_size: number; timestamp: number; root_hash: string; public_key: string; signature: string }): boolean {
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(head.public_key, 'hex').toString('base64url') }, format: 'jwk' });
  const message = `accountable-ledger-tree-head-v1\n${head.tree_size}\n${head.timestamp}\n${head.root_hash}\n`;
  return verify(null, Buffer.from(message, 'ascii'), key, Buffer.from(head.signature, 'hex'));
}
