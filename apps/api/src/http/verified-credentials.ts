import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Basic-auth checks that succeeded, so that the next one with the same credentials needs no
 * decryption of the stored token. An entry is keyed by the account and its token exactly as
 * sealed in its row: a new token is a new ciphertext and finds nothing here. Only a digest of
 * the password is kept, and a failed check is never remembered, so a wrong password costs what
 * it always did. The row itself, with its status, is still read for every request: this
 * remembers a proof, never an account. Bounded: the oldest entry goes first.
 */
export class VerifiedCredentials {
  private readonly digests = new Map<string, Buffer>();

  constructor(private readonly capacity: number) {}

  has(sid: string, sealedToken: string, password: string): boolean {
    const known = this.digests.get(keyOf(sid, sealedToken));
    return known !== undefined && timingSafeEqual(known, digestOf(password));
  }

  add(sid: string, sealedToken: string, password: string): void {
    const key = keyOf(sid, sealedToken);
    if (!this.digests.has(key) && this.digests.size >= this.capacity) this.digests.delete(this.digests.keys().next().value!);
    this.digests.set(key, digestOf(password));
  }
}

// The sid as well: a sealed token copied into another row must not stand for that row's account.
function keyOf(sid: string, sealedToken: string): string {
  return `${sid} ${sealedToken}`;
}

function digestOf(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}
