import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 8;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const KEY_ID = /^[A-Za-z0-9_-]{11}$/;

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * A sealed value taken apart. `v1` (no key id) is what every seal was before keyrings: it opens
 * only with the one key there was then, so a keyring tries it with each of its keys.
 */
export type SealedParts =
  | { format: 'v1'; keyId: null; iv: Buffer; tag: Buffer; ciphertext: Buffer }
  | { format: 'v2'; keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer };

/**
 * The key's id: the first 64 bits of HMAC-SHA256(key, a fixed label), base64url (11 characters).
 * Derived, so every process holding the key agrees on it without configuration, and it tells
 * nothing about the key.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('accountable sealing key id').digest().subarray(0, KEY_ID_BYTES).toString('base64url');
}

/** The parts of a sealed value, or null when it is in neither format. */
export function parseSealed(sealed: unknown): SealedParts | null {
  if (typeof sealed !== 'string') return null;
  const parts = sealed.split('.');
  let keyId: string | null;
  let body: string[];
  if (parts.length === 4 && parts[0] === 'v1') [keyId, body] = [null, parts.slice(1)];
  else if (parts.length === 5 && parts[0] === 'v2' && KEY_ID.test(parts[1]!)) [keyId, body] = [parts[1]!, parts.slice(2)];
  else return null;
  if (!body.every((p) => BASE64URL.test(p))) return null;
  const [iv, tag, ciphertext] = body.map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  return keyId === null ? { format: 'v1', keyId, iv, tag, ciphertext } : { format: 'v2', keyId, iv, tag, ciphertext };
}

/**
 * AES-256-GCM under one key, with a fresh random 96-bit IV per seal. Sealed form:
 * `v2.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts), so a keyring knows which of its keys
 * to use. `v1.<iv>.<tag>.<ciphertext>`, the form before key ids, still opens under the key that
 * sealed it; nothing is sealed in it any more.
 *
 * `context` (e.g. the account sid) is authenticated but not stored: a value sealed for one
 * account does not open for another, so ciphertexts cannot be swapped between rows.
 */
export class SecretBox {
  readonly #key: Buffer;
  readonly keyId: string;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
      throw new SecretBoxError(`SecretBox needs a ${KEY_BYTES}-byte key`);
    }
    this.#key = Buffer.from(key);
    this.keyId = keyIdOf(this.#key);
  }

  seal(plaintext: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(aad('v2', this.keyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v2', this.keyId, ...[iv, tag, ciphertext].map((part) => part.toString('base64url'))].join('.');
  }

  /** Throws SecretBoxError if the value is malformed, tampered with, or sealed under another key or context. */
  open(sealed: string, context = ''): string {
    const parts = parseSealed(sealed);
    if (!parts) throw new SecretBoxError('sealed value is malformed');
    if (parts.format === 'v2' && parts.keyId !== this.keyId) throw new SecretBoxError(`sealed with key id ${parts.keyId}, not this key`);
    const opened = this.openParts(parts, context);
    if (opened === null) throw new SecretBoxError('sealed value failed authentication (tampered, or wrong key or context)');
    return opened;
  }

  /**
   * One AES-GCM decryption attempt, whatever the key id says (the keyring checks it): null when
   * it does not authenticate. Always the same work, so a failure costs what a success does.
   */
  openParts(parts: SealedParts, context: string): string | null {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, parts.iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(parts.format, parts.keyId, context));
      decipher.setAuthTag(parts.tag);
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

// The format (and, from v2, the key id) is authenticated too: a body can never be reinterpreted
// under another format or moved under another key id.
function aad(format: 'v1' | 'v2', keyId: string | null, context: string): Buffer {
  return Buffer.from(format === 'v1' ? `v1\0${context}` : `v2\0${keyId}\0${context}`, 'utf8');
}
