import { EgressAllowListError, EgressPolicy } from './egress-policy';

describe('EgressPolicy', () => {
  const none = EgressPolicy.allowing([]);

  it.each([
    ['8.8.8.8'],
    ['93.184.216.34'],
    ['2606:4700:4700::1111'],
    // An IPv4-mapped public address is that address.
    ['::ffff:8.8.8.8'],
  ])('allows the public unicast address %s', (address) => {
    expect(none.refusal(address)).toBeNull();
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00::1', 'uniqueLocal'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    // IPv6 spellings of refused IPv4 addresses.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['64:ff9b:1::a00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
    ['::7f00:1', 'ipv4Embedded'],
    // Forms the resolver never answers and WHATWG URL parsing normalises away; refused as not canonical.
    ['127.1', 'not an IP address'],
    ['0x7f.0.0.1', 'not an IP address'],
    ['localhost', 'not an IP address'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(none.refusal(address)).toBe(reason);
    expect(none.allows(address)).toBe(false);
  });

  it('allows what EGRESS_ALLOW lists: addresses and CIDRs, IPv4-mapped forms included', () => {
    const policy = EgressPolicy.allowing(['127.0.0.1', '10.0.0.0/8', 'fd00::/16', '::ffff:192.168.0.0/112']);
    expect(policy.allows('127.0.0.1')).toBe(true);
    expect(policy.allows('::ffff:127.0.0.1')).toBe(true);
    expect(policy.allows('127.0.0.2')).toBe(false);
    expect(policy.allows('10.200.3.4')).toBe(true);
    expect(policy.allows('fd00:0:1::5')).toBe(true);
    expect(policy.allows('fd01::5')).toBe(false);
    expect(policy.allows('192.168.7.7')).toBe(true);
    expect(policy.allows('169.254.169.254')).toBe(false);
    expect(policy.allows('8.8.8.8')).toBe(true);
  });

  it.each([['localhost'], ['10.0.0.0/33'], ['127.1'], ['::ffff:0.0.0.0/64'], ['1.2.3.4/8/9']])('refuses the allow-list entry %s', (entry) => {
    expect(() => EgressPolicy.allowing([entry])).toThrow(EgressAllowListError);
  });
});
