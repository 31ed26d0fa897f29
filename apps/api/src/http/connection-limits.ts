import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIP } from '@fastify/rate-limit';

export interface ConnectionLimits {
  /** Open connections in all; 0: no limit. */
  max: number;
  /** Open connections per peer address (IPv6 by /64); 0: no limit. */
  perAddress: number;
}

/**
 * Bounds the sockets a process keeps open, so idle or slow connections cannot use up its file
 * descriptors and memory: beyond `max`, Node closes new connections at once; beyond
 * `perAddress` from one peer, so do we, so that one client's idle sockets cannot take the room
 * of everyone else's. The per-address bound counts the TCP peer, which behind a reverse proxy
 * is the proxy: callers pass 0 then (the proxy is where per-client connections are bounded).
 * Idle sockets are closed by the server's timeouts (app.factory.ts).
 */
export function limitConnections(server: Server, limits: ConnectionLimits): void {
  if (limits.max > 0) server.maxConnections = limits.max;
  if (limits.perAddress <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const key = normalizeIP(socket.remoteAddress ?? 'unknown');
    const count = open.get(key) ?? 0;
    if (count >= limits.perAddress) {
      socket.destroy();
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
