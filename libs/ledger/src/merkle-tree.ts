import { createHash, hash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing, §2.1: SHA-256, a leaf is hashed
 * as H(0x00 || leaf), an inner node as H(0x01 || left || right), so that no leaf can pass for a
 * node (second preimages). A tree of n leaves splits at k, the largest power of two below n.
 *
 * Sizes and indexes are plain numbers (a log stays far below 2^53 events), so no bit operator
 * is used on them: JavaScript's work on 32 bits.
 */
export const HASH_BYTES = 32;

export function sha256(...parts: Uint8Array[]): Buffer {
  const hasher = createHash('sha256');
  for (const part of parts) hasher.update(part);
  return hasher.digest();
}

/**
 * SHA-256 of one string (as UTF-8) or buffer. `crypto.hash` (Node ≥ 20.12) skips the Hash
 * object that createHash makes: `ledger verify` hashes two to three times per event. The digest
 * is asked for as a 'binary' (latin1) string, one char per byte, and made a Buffer here: asked
 * for as a Buffer, it gets an ArrayBuffer of its own from C++, which took 1.4 µs a call against
 * 0.5 µs so (Node 20, 65 bytes hashed; most of the difference allocation and GC).
 */
export const sha256Of: (data: string | Uint8Array) => Buffer =
  typeof hash === 'function' ? (data) => Buffer.from(hash('sha256', data, 'binary'), 'binary') : (data) => createHash('sha256').update(data).digest();

const LEAF_PREFIX = Buffer.from([0]);
const NODE_PREFIX = Buffer.from([1]);

export function hashLeaf(leaf: Uint8Array): Buffer {
  return sha256(LEAF_PREFIX, leaf);
}

/** hashLeaf of a text's UTF-8 bytes, without making them a buffer first: U+0000 is the one byte 0x00. */
export function hashLeafText(leaf: string): Buffer {
  return sha256Of(`\u0000${leaf}`);
}

/** 0x01 || left || right, reused: sha256Of has finished with it when it returns (the process is single-threaded). */
const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_BYTES, 1);

export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  // A proof checked offline may carry hashes of any length: those take the general path.
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) return sha256(NODE_PREFIX, left, right);
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_BYTES);
  return sha256Of(NODE_INPUT);
}

/** MTH({}) : the hash of the empty string. */
export const EMPTY_ROOT = sha256();

/** The largest power of two strictly below n (n > 1). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

/**
 * The right edge of a tree being built leaf by leaf: one hash per perfect subtree the leaves so
 * far decompose into, largest (leftmost) first — a subtree of 2^j leaves for each bit j set in
 * the size. Appending needs only this, so the tree grows in constant memory.
 */
export class Frontier {
  private readonly stack: Buffer[];
  private count: number;

  /** `hashes`: the perfect subtrees of a tree of `size` leaves, largest first (see `frontierNodes`). */
  constructor(size = 0, hashes: readonly Buffer[] = []) {
    if (frontierNodes(size).length !== hashes.length) throw new Error(`a frontier of ${size} leaves has ${frontierNodes(size).length} subtrees, not ${hashes.length}`);
    this.count = size;
    this.stack = [...hashes];
  }

  get size(): number {
    return this.count;
  }

  /**
   * Adds a leaf (its leaf hash) and returns the hashes of the perfect subtrees that end with it:
   * the leaf itself at level 0, then each subtree it completes, level by level (the subtree of
   * 2^j leaves ending at leaf i exists when the j lowest bits of i are all set).
   */
  append(leafHash: Buffer): Buffer[] {
    const completed = [leafHash];
    let hash = leafHash;
    for (let i = this.count; isOdd(i); i = half(i)) {
      hash = hashChildren(this.stack.pop()!, hash);
      completed.push(hash);
    }
    this.stack.push(hash);
    this.count += 1;
    return completed;
  }

  /** MTH of the leaves so far. */
  root(): Buffer {
    if (this.stack.length === 0) return EMPTY_ROOT;
    let acc = this.stack[this.stack.length - 1];
    for (let j = this.stack.length - 2; j >= 0; j--) acc = hashChildren(this.stack[j], acc);
    return acc;
  }

  /** The perfect subtrees' hashes, largest first. */
  hashes(): Buffer[] {
    return [...this.stack];
  }
}

/** A perfect subtree: 2^level leaves starting at index × 2^level. */
export interface NodeRef {
  level: number;
  index: number;
}

/** The last leaf of a perfect subtree: where it is completed (see `Frontier.append`). */
export function lastLeafOf(node: NodeRef): number {
  return (node.index + 1) * 2 ** node.level - 1;
}

/** The perfect subtrees a tree of `size` leaves decomposes into, largest (leftmost) first. */
export function frontierNodes(size: number): NodeRef[] {
  const nodes: NodeRef[] = [];
  let start = 0;
  for (let width = 2 ** Math.floor(Math.log2(Math.max(size, 1)) + 1); width >= 1; width /= 2) {
    if (start + width <= size) {
      nodes.push({ level: Math.log2(width), index: start / width });
      start += width;
    }
  }
  return nodes;
}

/** Supplies the hash of a perfect subtree (from storage, or from a recomputation). */
export type PerfectNodes = (node: NodeRef) => Buffer;

/** MTH(D[start:end]) from perfect subtrees: at most 2 log2(n) of them. */
export function rangeHash(start: number, end: number, node: PerfectNodes): Buffer {
  const width = end - start;
  if (width <= 0) throw new Error(`empty range [${start}, ${end})`);
  if (Number.isInteger(Math.log2(width)) && start % width === 0) return node({ level: Math.log2(width), index: start / width });
  const k = splitPoint(width);
  return hashChildren(rangeHash(start, start + k, node), rangeHash(start + k, end, node));
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]): the audit path of leaf m in the tree of the first n leaves. */
export function inclusionPath(leafIndex: number, treeSize: number, node: PerfectNodes): Buffer[] {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) throw new RangeError(`leaf ${leafIndex} is not in a tree of ${treeSize}`);
  const path = (m: number, start: number, end: number): Buffer[] => {
    const n = end - start;
    if (n === 1) return [];
    const k = splitPoint(n);
    return m < k ? [...path(m, start, start + k), rangeHash(start + k, end, node)] : [...path(m - k, start + k, end), rangeHash(start, start + k, node)];
  };
  return path(leafIndex, 0, treeSize);
}

/** RFC 9162 §2.1.4.1 PROOF(m, D[n]): that the tree of m leaves is a prefix of the tree of n. */
export function consistencyPath(first: number, second: number, node: PerfectNodes): Buffer[] {
  if (!(first >= 0 && first <= second)) throw new RangeError(`no consistency proof from ${first} to ${second}`);
  if (first === 0 || first === second) return [];
  const subproof = (m: number, start: number, end: number, complete: boolean): Buffer[] => {
    const n = end - start;
    if (m === n) return complete ? [] : [rangeHash(start, end, node)];
    const k = splitPoint(n);
    return m <= k
      ? [...subproof(m, start, start + k, complete), rangeHash(start + k, end, node)]
      : [...subproof(m - k, start + k, end, false), rangeHash(start, start + k, node)];
  };
  return subproof(first, 0, second, true);
}

/**
 * The perfect subtrees a computation over `PerfectNodes` reads, found by running it once on
 * placeholders: storage is then asked for all of them in one query.
 */
export function nodesRead(compute: (node: PerfectNodes) => unknown): NodeRef[] {
  const seen = new Map<string, NodeRef>();
  compute((ref) => {
    seen.set(`${ref.level}/${ref.index}`, ref);
    return Buffer.alloc(HASH_BYTES);
  });
  return [...seen.values()];
}

/** RFC 9162 §2.1.3.2: the root that `path` leads to from `leafHash`, or null when the path cannot belong to that position. */
export function rootFromInclusion(leafIndex: number, treeSize: number, leafHash: Buffer, path: readonly Buffer[]): Buffer | null {
  if (!(leafIndex >= 0 && leafIndex < treeSize)) return null;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

export function verifyInclusion(leafIndex: number, treeSize: number, leafHash: Buffer, path: readonly Buffer[], root: Buffer): boolean {
  const computed = rootFromInclusion(leafIndex, treeSize, leafHash, path);
  return computed !== null && computed.equals(root);
}

/** RFC 9162 §2.1.4.2: whether `path` proves the tree (first, firstRoot) a prefix of (second, secondRoot). */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, path: readonly Buffer[]): boolean {
  if (!(first >= 0 && first <= second)) return false;
  if (first === 0) return path.length === 0 && firstRoot.equals(EMPTY_ROOT);
  if (first === second) return path.length === 0 && firstRoot.equals(secondRoot);
  if (path.length === 0) return false;
  const nodes = Number.isInteger(Math.log2(first)) ? [firstRoot, ...path] : [...path];
  let fn = first - 1;
  let sn = second - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = nodes[0];
  let sr = nodes[0];
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}
