import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Cidr = [Address, number];

/**
 * IPv4-compatible IPv6 (`::a.b.c.d` written `::7f00:1`, deprecated, routed to IPv4 by some
 * stacks): ipaddr.js calls it `unicast`, a connection to it may reach the IPv4 address.
 */
const ALSO_REFUSED: readonly Cidr[] = [ipaddr.parseCIDR('::/96')];

export class EgressAllowListError extends Error {
  override readonly name = 'EgressAllowListError';
}

/**
 * Which addresses delivery may connect to: global unicast only, unless the operator's
 * EGRESS_ALLOW lists the address or a CIDR holding it. Refused by default: loopback, private
 * (RFC 1918, unique local), link-local (the cloud metadata service at 169.254.169.254),
 * carrier-grade NAT, multicast, broadcast, unspecified, reserved and documentation ranges, and
 * every IPv6 form that carries an IPv4 address (mapped, compatible, translated, 6to4, Teredo, NAT64), which
 * is judged as that IPv4 address where ipaddr.js unwraps it (`::ffff:127.0.0.1` is loopback) and
 * refused where it does not.
 */
export class EgressPolicy {
  private constructor(private readonly allowed: readonly Cidr[]) {}

  static readonly none = new EgressPolicy([]);

  /** EGRESS_ALLOW's entries (the configuration has split and checked them): addresses or CIDRs; throws on any other. */
  static allowing(entries: readonly string[]): EgressPolicy {
    return new EgressPolicy(entries.map(parseEntry));
  }

  /** Whether delivery may connect to `address` (an IP address literal, without brackets). */
  allows(address: string): boolean {
    return this.refusal(address) === null;
  }

  /** Why `address` is refused (its range's name), or null when it is allowed. */
  refusal(address: string): string | null {
    // net.isIP: the canonical forms only (ipaddr.js also reads `127.1` and `0x7f.0.0.1`).
    if (isIP(address) === 0) return 'not an IP address';
    const parsed = unwrap(ipaddr.parse(address));
    if (this.allowed.some((cidr) => parsed.kind() === cidr[0].kind() && parsed.match(cidr))) return null;
    if (parsed instanceof ipaddr.IPv6 && parsed.zoneId !== undefined) return 'scoped address';
    const range = parsed.range();
    if (range !== 'unicast') return range;
    if (ALSO_REFUSED.some((cidr) => parsed.kind() === cidr[0].kind() && parsed.match(cidr))) return 'ipv4Embedded';
    return null;
  }
}

/** An IPv4-mapped IPv6 address is its IPv4 address: that is where a connection to it goes. */
function unwrap(address: Address): Address {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address;
}

function parseEntry(entry: string): Cidr {
  const [text, bitsText, ...rest] = entry.split('/');
  const family = isIP(text);
  const bits = bitsText === undefined ? (family === 4 ? 32 : 128) : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (family === 0 || rest.length > 0 || !(bits <= (family === 4 ? 32 : 128))) {
    throw new EgressAllowListError(`EGRESS_ALLOW: "${entry}" is not an IP address or CIDR`);
  }
  const address = ipaddr.parse(text);
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    if (bits < 96) throw new EgressAllowListError(`EGRESS_ALLOW: "${entry}" spans more than IPv4-mapped addresses; give the IPv4 range`);
    return [address.toIPv4Address(), bits - 96];
  }
  return [address, bits];
}
