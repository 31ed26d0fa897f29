import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { sha256 } from './merkle-tree';

/** A signed statement: the log's first `treeSize` events hash to `rootHash`, as of `timestamp`. */
export interface TreeHead {
  treeSize: number;
  rootHash: Buffer;
  /** Milliseconds since the epoch, when the head was signed. */
  timestamp: number;
  /** `keyIdOf(publicKey)`. */
  keyId: string;
  /** The Ed25519 public key, raw (32 bytes). */
  publicKey: Buffer;
  signature: Buffer;
}

/** The bytes signed for a head (README "The ledger"): ASCII, one field a line. */
export function headMessage(head: Pick<TreeHead, 'treeSize' | 'rootHash' | 'timestamp'>): Buffer {
  return Buffer.from(`accountable-ledger-tree-head-v1\n${head.treeSize}\n${head.timestamp}\n${head.rootHash.toString('hex')}\n`, 'ascii');
}

/** The first 16 bytes of SHA-256 over the raw public key, hex. */
export function keyIdOf(publicKey: Buffer): string {
  return sha256(publicKey).subarray(0, 16).toString('hex');
}

// DER wrappers of a raw Ed25519 key (RFC 8410): PKCS#8 for the 32-byte seed, SPKI for the public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function publicKeyObject(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error('an Ed25519 public key is 32 bytes');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Signs tree heads with the ledger's Ed25519 key. The private key never leaves this object. */
export class HeadSigner {
  private readonly privateKey: KeyObject;
  readonly publicKey: Buffer;
  readonly keyId: string;

  /** `seed`: the 32-byte Ed25519 private key (RFC 8032 §5.1.5). */
  constructor(seed: Buffer) {
    if (seed.length !== 32) throw new Error('an Ed25519 private key is 32 bytes');
    this.privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = Buffer.from(spki.subarray(spki.length - 32));
    this.keyId = keyIdOf(this.publicKey);
  }

  sign(treeSize: number, rootHash: Buffer, timestamp = Date.now()): TreeHead {
    const signature = sign(null, headMessage({ treeSize, rootHash, timestamp }), this.privateKey);
    return { treeSize, rootHash, timestamp, keyId: this.keyId, publicKey: this.publicKey, signature };
  }
}

/**
 * The keys of the heads checked lately, by their raw bytes: `ledger verify` checks every stored
 * head, nearly all signed by one key, and parsing the key cost as much as checking a signature.
 * A few entries, so a log signed by many (forged) keys cannot grow it.
 */
const recentKeys = new Map<string, { keyId: string; key: KeyObject }>();
const RECENT_KEYS = 8;

function checkingKey(raw: Buffer): { keyId: string; key: KeyObject } {
  const hex = raw.toString('hex');
  let entry = recentKeys.get(hex);
  if (!entry) {
    entry = { keyId: keyIdOf(raw), key: publicKeyObject(raw) };
    if (recentKeys.size >= RECENT_KEYS) recentKeys.delete(recentKeys.keys().next().value!);
    recentKeys.set(hex, entry);
  }
  return entry;
}

/** Whether the head's signature is its public key's, over its own fields. */
export function signatureHolds(head: TreeHead): boolean {
  try {
    const { keyId, key } = checkingKey(head.publicKey);
    return keyId === head.keyId && verify(null, headMessage(head), key, head.signature);
  } catch {
    return false;
  }
}

/** A head as JSON: what `ledger head --json` prints and `--head FILE` reads. */
export interface TreeHeadJson {
  tree_size: number;
  root_hash: string;
  timestamp: number;
  signed_at: string;
  key_id: string;
  public_key: string;
  signature: string;
}

export function headToJson(head: TreeHead): TreeHeadJson {
  return {
    tree_size: head.treeSize,
    root_hash: head.rootHash.toString('hex'),
    timestamp: head.timestamp,
    signed_at: new Date(head.timestamp).toISOString(),
    key_id: head.keyId,
    public_key: head.publicKey.toString('hex'),
    signature: head.signature.toString('hex'),
  };
}

export class HeadFormatError extends Error {
  override readonly name = 'HeadFormatError';
}

const hexOf = (value: unknown, bytes: number, field: string): Buffer => {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${bytes * 2}}$`).test(value)) throw new HeadFormatError(`${field} must be ${bytes * 2} lower-case hex characters`);
  return Buffer.from(value, 'hex');
};
const countOf = (value: unknown, field: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new HeadFormatError(`${field} must be a non-negative integer`);
  return value;
};

const positive = (value: number, field: string): number => {
  if (value < 1) throw new HeadFormatError(`${field} must be at least 1`);
  return value;
};

/** Reads a head from its JSON (a file someone kept); the signature is checked separately. */
export function headFromJson(value: unknown): TreeHead {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HeadFormatError('a tree head is a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.key_id !== 'string') throw new HeadFormatError('key_id is missing');
  return {
    treeSize: positive(countOf(v.tree_size, 'tree_size'), 'tree_size'),
    rootHash: hexOf(v.root_hash, 32, 'root_hash'),
    timestamp: countOf(v.timestamp, 'timestamp'),
    keyId: v.key_id,
    publicKey: hexOf(v.public_key, 32, 'public_key'),
    signature: hexOf(v.signature, 64, 'signature'),
  };
}
