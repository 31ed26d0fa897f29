import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const API_KEY_SECRET_LENGTH = 32;
const VERIFIER = /^v1\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

/** 32 base62 characters (about 190 random bits), the shape of a Twilio API key secret. */
export function newApiKeySecret(): string {
  let secret = '';
  // randomInt draws without modulo bias.
  for (let i = 0; i < API_KEY_SECRET_LENGTH; i++) secret += BASE62[randomInt(BASE62.length)];
  return secret;
}

/**
 * What is stored of a key's secret: `v1.<salt>.<HMAC-SHA256(salt, secret)>`, base64url, with a
 * random 128-bit salt per key. A fast keyed hash, not a slow password hash: the secret is 190
 * random bits, so there is nothing to guess, and every request with a key is checked in full
 * (one HMAC, microseconds) with no cache that could outlive the key. The salt makes two
 * verifiers of one secret differ, so a copied verifier proves nothing about another key.
 */
export function apiKeySecretVerifier(secret: string, salt: Buffer = randomBytes(16)): string {
  return `v1.${salt.toString('base64url')}.${hmacOf(salt, secret).toString('base64url')}`;
}

/** Constant time in the secret; a malformed verifier matches nothing (the same work is done). */
export function apiKeySecretMatches(verifier: string, secret: string): boolean {
  const match = VERIFIER.exec(verifier);
  const salt = match ? Buffer.from(match[1], 'base64url') : Buffer.alloc(16);
  const expected = match ? Buffer.from(match[2], 'base64url') : Buffer.alloc(32);
  const same = timingSafeEqual(expected, hmacOf(salt, secret));
  return same && match !== null;
}

function hmacOf(salt: Buffer, secret: string): Buffer {
  return createHmac('sha256', salt).update(secret, 'utf8').digest();
}
