import type { FastifyRequest } from 'fastify';
import { ipAddressOrNull } from '@accountable/event-store';

/**
 * The client's address as Fastify derived it (the peer, or X-Forwarded-For as far as TRUST_PROXY
 * trusts it): null unless it is an IP address, so whatever a client writes into that header
 * never reaches the event log or the limiters' keys.
 */
export function clientAddressOf(request: FastifyRequest): string | null {
  return ipAddressOrNull(request.ip);
}
