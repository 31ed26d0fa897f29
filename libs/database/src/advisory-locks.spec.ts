import { ADVISORY_LOCK_CLASS, ADVISORY_LOCK_KEY } from './advisory-locks';

describe('advisory lock key spaces', () => {
  it('each purpose has a class of its own, an int4', () => {
    const classes = Object.values(ADVISORY_LOCK_CLASS);
    expect(new Set(classes).size).toBe(classes.length);
    for (const c of classes) expect(Number.isInteger(c) && c >= -(2 ** 31) && c < 2 ** 31).toBe(true);
  });

  it('each fixed key is its own, a bigint', () => {
    const keys = Object.values(ADVISORY_LOCK_KEY);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of keys) expect(BigInt(k) >= -(2n ** 63n) && BigInt(k) < 2n ** 63n).toBe(true);
  });
});
