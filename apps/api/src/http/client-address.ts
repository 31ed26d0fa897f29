import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** Longer than any textual IPv6 address with a zone id a real interface has. */
const MAX_ADDRESS_LENGTH = 64;

/**
 * The client's address as Fastify derived it (the peer, or X-Forwarded-For as far as TRUST_PROXY
 * trusts it): null unless it is an IP address, so whatever a client writes into that header
 * never reaches the event log or the limiters' keys.
 */
export function clientAddressOf(request: FastifyRequest): string | null {
  const ip = request.ip;
  return typeof ip === 'string' && ip.length <= MAX_ADDRESS_LENGTH && isIP(ip) !== 0 ? ip : null;
}
