import { VerifiedCredentials } from './verified-credentials';

const SID = `AC${'a'.repeat(32)}`;
const OTHER = `AC${'b'.repeat(32)}`;

describe('VerifiedCredentials', () => {
  it('knows exactly the (account, sealed token, password) that was added', () => {
    const verified = new VerifiedCredentials(10);
    verified.add(SID, 'v1.sealed', 'token');
    expect(verified.has(SID, 'v1.sealed', 'token')).toBe(true);
    expect(verified.has(SID, 'v1.sealed', 'other token')).toBe(false);
    expect(verified.has(SID, 'v1.resealed', 'token')).toBe(false);
    expect(verified.has(OTHER, 'v1.sealed', 'token')).toBe(false);
  });

  it('keeps one entry per account and sealed token: the last password added', () => {
    const verified = new VerifiedCredentials(10);
    verified.add(SID, 'v1.sealed', 'first');
    verified.add(SID, 'v1.sealed', 'second');
    expect(verified.has(SID, 'v1.sealed', 'first')).toBe(false);
    expect(verified.has(SID, 'v1.sealed', 'second')).toBe(true);
  });

  it('forgets the oldest entry beyond its capacity', () => {
    const verified = new VerifiedCredentials(2);
    verified.add(SID, 'v1.one', 'p');
    verified.add(SID, 'v1.two', 'p');
    verified.add(SID, 'v1.two', 'p');
    verified.add(SID, 'v1.three', 'p');
    expect(verified.has(SID, 'v1.one', 'p')).toBe(false);
    expect(verified.has(SID, 'v1.two', 'p')).toBe(true);
    expect(verified.has(SID, 'v1.three', 'p')).toBe(true);
  });
});
