import { createHash } from 'node:crypto';
import {
  EMPTY_ROOT,
  Frontier,
  consistencyPath,
  frontierNodes,
  hashChildren,
  hashLeaf,
  hashLeafText,
  inclusionPath,
  lastLeafOf,
  rangeHash,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
  type PerfectNodes,
} from './merkle-tree';

// An independent RFC 9162 §2.1 implementation, written from the RFC's recursive definitions
// (array slices, no bit tricks), against which the code under test is checked.
const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const refLeaf = (d: Buffer) => H(Buffer.from([0]), d);
const refNode = (l: Buffer, r: Buffer) => H(Buffer.from([1]), l, r);
const largestPow2Below = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function MTH(D: Buffer[]): Buffer {
  if (D.length === 0) return H();
  if (D.length === 1) return refLeaf(D[0]);
  const k = largestPow2Below(D.length);
  return refNode(MTH(D.slice(0, k)), MTH(D.slice(k)));
}
function PATH(m: number, D: Buffer[]): Buffer[] {
  if (D.length === 1) return [];
  const k = largestPow2Below(D.length);
  return m < k ? [...PATH(m, D.slice(0, k)), MTH(D.slice(k))] : [...PATH(m - k, D.slice(k)), MTH(D.slice(0, k))];
}
function SUBPROOF(m: number, D: Buffer[], b: boolean): Buffer[] {
  const n = D.length;
  if (m === n) return b ? [] : [MTH(D)];
  const k = largestPow2Below(n);
  return m <= k ? [...SUBPROOF(m, D.slice(0, k), b), MTH(D.slice(k))] : [...SUBPROOF(m - k, D.slice(k), false), MTH(D.slice(0, k))];
}
/** Rebuilds the root from an audit path by walking PATH's recursion from the top. */
function refRootFromPath(m: number, n: number, leaf: Buffer, path: Buffer[]): Buffer | null {
  const rest = [...path];
  const walk = (m: number, n: number): Buffer | null => {
    if (n === 1) return leaf;
    const sibling = rest.pop();
    if (!sibling) return null;
    const k = largestPow2Below(n);
    const inner = m < k ? walk(m, k) : walk(m - k, n - k);
    return inner && (m < k ? refNode(inner, sibling) : refNode(sibling, inner));
  };
  const root = walk(m, n);
  return rest.length === 0 ? root : null;
}
/** Rebuilds both roots from a consistency proof by walking SUBPROOF's recursion. */
function refRootsFromConsistency(m: number, n: number, oldRoot: Buffer, proof: Buffer[]): { old: Buffer; new: Buffer } | null {
  const rest = [...proof];
  const walk = (m: number, n: number, b: boolean): { old: Buffer; new: Buffer } | null => {
    if (m === n) {
      if (b) return { old: oldRoot, new: oldRoot };
      const h = rest.pop();
      return h ? { old: h, new: h } : null;
    }
    const sibling = rest.pop();
    if (!sibling) return null;
    const k = largestPow2Below(n);
    if (m <= k) {
      const r = walk(m, k, b);
      return r && { old: r.old, new: refNode(r.new, sibling) };
    }
    const r = walk(m - k, n - k, false);
    return r && { old: refNode(sibling, r.old), new: refNode(sibling, r.new) };
  };
  const roots = walk(m, n, true);
  return rest.length === 0 ? roots : null;
}

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => Buffer.from(`leaf ${i}`));
function built(D: Buffer[]): { frontier: Frontier; node: PerfectNodes } {
  const frontier = new Frontier();
  const nodes = new Map<string, Buffer>();
  D.forEach((d, i) => frontier.append(hashLeaf(d)).forEach((h, level) => nodes.set(`${level}/${(i + 1) / 2 ** level - 1}`, h)));
  return { frontier, node: (ref) => nodes.get(`${ref.level}/${ref.index}`)! };
}
const flip = (b: Buffer) => {
  const c = Buffer.from(b);
  c[0] ^= 1;
  return c;
};

describe('RFC 9162 Merkle tree', () => {
  it('matches the Certificate Transparency test vectors', () => {
    const leaves = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => Buffer.from(h, 'hex'));
    const roots = [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
      'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
      '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
      '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
      'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    ];
    const frontier = new Frontier();
    expect(frontier.root()).toEqual(EMPTY_ROOT);
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    leaves.forEach((leaf, i) => {
      frontier.append(hashLeaf(leaf));
      expect(frontier.root().toString('hex')).toBe(roots[i]);
      expect(MTH(leaves.slice(0, i + 1)).toString('hex')).toBe(roots[i]);
    });
  });

  it('grows leaf by leaf to the root of the recursive definition, and each appended leaf returns the subtrees it completes', () => {
    const D = leavesOf(70);
    const frontier = new Frontier();
    D.forEach((d, i) => {
      const completed = frontier.append(hashLeaf(d));
      completed.forEach((hash, level) => expect(hash).toEqual(MTH(D.slice(i + 1 - 2 ** level, i + 1))));
      expect(frontier.root()).toEqual(MTH(D.slice(0, i + 1)));
      // A frontier restored from its stored subtrees continues the same tree.
      const restored = new Frontier(
        i + 1,
        frontierNodes(i + 1).map((ref) => MTH(D.slice(lastLeafOf(ref) + 1 - 2 ** ref.level, lastLeafOf(ref) + 1))),
      );
      expect(restored.root()).toEqual(frontier.root());
    });
  });

  it('hashes any range from perfect subtrees as MTH does', () => {
    const D = leavesOf(37);
    const { node } = built(D);
    for (let start = 0; start < 37; start += 4) for (let end = start + 1; end <= 37; end++) if (start % largestPow2Below(end - start + 1) === 0) expect(rangeHash(start, end, node)).toEqual(MTH(D.slice(start, end)));
  });

  it('makes the audit paths of PATH(m, D[n]); both verifiers accept them and refuse a changed one', () => {
    for (let n = 1; n <= 33; n++) {
      const D = leavesOf(n);
      const { node } = built(D);
      const root = MTH(D);
      for (let m = 0; m < n; m++) {
        const path = inclusionPath(m, n, node);
        expect(path).toEqual(PATH(m, D));
        const leaf = refLeaf(D[m]);
        expect(verifyInclusion(m, n, leaf, path, root)).toBe(true);
        expect(refRootFromPath(m, n, leaf, path)).toEqual(root);
        expect(verifyInclusion(m, n, flip(leaf), path, root)).toBe(false);
        if (path.length) {
          const bad = [...path];
          bad[bad.length - 1] = flip(bad[bad.length - 1]);
          expect(verifyInclusion(m, n, leaf, bad, root)).toBe(false);
          expect(verifyInclusion(m, n, leaf, path.slice(1), root)).toBe(false);
        }
        expect(verifyInclusion(m, n, leaf, [...path, root], root)).toBe(false);
        if (n > 1) expect(verifyInclusion((m + 1) % n, n, leaf, path, root)).toBe(false);
      }
    }
    expect(rootFromInclusion(3, 3, EMPTY_ROOT, [])).toBeNull();
  });

  it('makes the consistency proofs of PROOF(m, D[n]); both verifiers accept them and refuse a changed one or a forked tree', () => {
    for (let n = 1; n <= 33; n++) {
      const D = leavesOf(n);
      const { node } = built(D);
      const root = MTH(D);
      for (let m = 1; m <= n; m++) {
        const old = MTH(D.slice(0, m));
        const proof = consistencyPath(m, n, node);
        expect(proof).toEqual(m === n ? [] : SUBPROOF(m, D, true));
        expect(verifyConsistency(m, n, old, root, proof)).toBe(true);
        if (m < n) {
          expect(refRootsFromConsistency(m, n, old, proof)).toEqual({ old, new: root });
          expect(verifyConsistency(m, n, flip(old), root, proof)).toBe(false);
          expect(verifyConsistency(m, n, old, flip(root), proof)).toBe(false);
          const bad = [...proof];
          bad[0] = flip(bad[0]);
          expect(verifyConsistency(m, n, old, root, bad)).toBe(false);
          // A log whose first m leaves were rewritten (every hash recomputed) is not consistent with the old head.
          const forked = [...D];
          forked[m - 1] = Buffer.from('forged');
          const f = built(forked);
          expect(verifyConsistency(m, n, old, MTH(forked), consistencyPath(m, n, f.node))).toBe(false);
        } else {
          expect(verifyConsistency(m, n, old, flip(root), proof)).toBe(false);
        }
      }
    }
  });

  it('hashes children of any length as H(0x01 || left || right), and text leaves as their UTF-8 bytes', () => {
    const a = H(Buffer.from('a'));
    const b = H(Buffer.from('b'));
    expect(hashChildren(a, b)).toEqual(refNode(a, b));
    // The 32-byte path reuses one input buffer: a call between must not leak into the next.
    expect(hashChildren(b, a)).toEqual(refNode(b, a));
    for (const [l, r] of [[a.subarray(1), b], [a, Buffer.concat([b, a])], [Buffer.alloc(0), Buffer.alloc(0)]]) expect(hashChildren(l, r)).toEqual(refNode(l, r));
    expect(hashLeafText('é\u0000\ud83d\ude00')).toEqual(refLeaf(Buffer.from('é\u0000\ud83d\ude00', 'utf8')));
  });

  it('decomposes a size into perfect subtrees, largest first', () => {
    expect(frontierNodes(0)).toEqual([]);
    expect(frontierNodes(1)).toEqual([{ level: 0, index: 0 }]);
    expect(frontierNodes(13)).toEqual([
      { level: 3, index: 0 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(frontierNodes(2 ** 40)).toEqual([{ level: 40, index: 0 }]);
    expect(lastLeafOf({ level: 2, index: 2 })).toBe(11);
  });
});
