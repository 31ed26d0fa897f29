import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { IdempotencyKey } from '@accountable/accounts';
import { TwilioErrors } from '@accountable/twilio';

const HEADER = 'idempotency-key';

/** The header as the OpenAPI document shows it on every POST that honours it. */
export const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Retry-safe POST: the same key and request return the original response; another request with the key is 422',
};
/** 1–255 printable ASCII characters (our choice); HTTP itself trims spaces at either end. */
const KEY_FORMAT = /^[\x20-\x7E]{1,255}$/;

/**
 * The request's `Idempotency-Key`, scoped to the authenticated account; undefined without one.
 * Given twice, empty, too long or not printable ASCII: 400 20002.
 *
 * `requestHash` decides whether a retry is "the same request": sha256 over the JSON of the
 * method, the canonical path and the parameters the endpoint uses, sorted by name, absent ones
 * left out. Unknown parameters (ignored by the endpoint) and the body's encoding (form or JSON)
 * do not count.
 */
export function idempotencyKeyOf(
  request: FastifyRequest,
  accountSid: string,
  path: string,
  params: Record<string, string | undefined>,
): IdempotencyKey | undefined {
  // Node joins a repeated header into one "a, b" value, which would pass for a key.
  const given = request.raw.rawHeaders.filter((name, i) => i % 2 === 0 && name.toLowerCase() === HEADER).length;
  if (given === 0) return undefined;
  const key = request.headers[HEADER];
  if (given > 1 || typeof key !== 'string' || !KEY_FORMAT.test(key)) {
    throw TwilioErrors.invalidParameter('Idempotency-Key must be given once, as 1 to 255 printable ASCII characters');
  }
  const known = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const requestHash = createHash('sha256').update(JSON.stringify([request.method, path, known])).digest('hex');
  return { accountSid, key, requestHash };
}
