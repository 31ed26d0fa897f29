import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 lowercase hex characters, the shape of a Twilio auth token (128 random bits). */
export function newAuthToken(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Constant-time string comparison. Both sides are hashed first so the buffers handed to
 * timingSafeEqual always have equal length: no early exit and no thrown RangeError reveals the
 * length of the secret.
 */
export function safeEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  const sameDigest = timingSafeEqual(digestA, digestB);
  // Non-short-circuit `&` so both checks always run.
  return (Number(sameDigest) & Number(a.length === b.length)) === 1;
}
