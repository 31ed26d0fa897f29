import type { FastifyRequest } from 'fastify';
import { clientAddressOf } from './client-address';

const of = (ip: unknown) => clientAddressOf({ ip } as FastifyRequest);

describe('clientAddressOf', () => {
  it('keeps IPv4 and IPv6 addresses as given', () => {
    expect(of('203.0.113.9')).toBe('203.0.113.9');
    expect(of('2001:db8::1')).toBe('2001:db8::1');
    expect(of('::ffff:127.0.0.1')).toBe('::ffff:127.0.0.1');
  });

  it('is null for anything else a forwarded header may carry, and for an address too long to be real', () => {
    for (const ip of ['', 'unknown', '203.0.113.9, 10.0.0.1', '999.1.1.1', '<script>', 'x'.repeat(3000), `fe80::1%${'e'.repeat(80)}`, undefined]) {
      expect(of(ip)).toBeNull();
    }
  });
});
