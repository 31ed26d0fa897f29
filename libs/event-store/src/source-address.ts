import { isIP } from 'node:net';

/** Longer than any textual IPv6 address with a zone id a real interface has. */
export const MAX_ADDRESS_LENGTH = 64;

/**
 * `value` if it is an IP address (IPv4, or IPv6 with at most a short zone id), else null: the
 * rule for `metadata.sourceIp`, applied where a request's address is recorded and again where the
 * audit reads it, since a log may hold addresses recorded before the rule (events never change).
 * The length bound matters: `isIP` accepts an IPv6 address with a zone id of any length.
 */
export function ipAddressOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length <= MAX_ADDRESS_LENGTH && isIP(value) !== 0 ? value : null;
}
