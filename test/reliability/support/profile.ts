/**
 * RELIABILITY_PROFILE: `ci` (default, a few minutes on two cores) or `full` (the numbers).
 * Every count a test uses comes from here, so the summary names what the profile actually tried.
 */
export type Profile = 'ci' | 'full';

export const PROFILE: Profile = parseProfile(process.env.RELIABILITY_PROFILE);

export function parseProfile(value: string | undefined): Profile {
  if (value === undefined || value === '' || value === 'ci') return 'ci';
  if (value === 'full') return 'full';
  throw new Error(`RELIABILITY_PROFILE must be ci or full, not ${value}`);
}

export const byProfile = <T>(figures: Record<Profile, T>): T => figures[PROFILE];

/** One seed per run, printed in the summary, so a failing run can be repeated with RELIABILITY_SEED. */
export const SEED: number = process.env.RELIABILITY_SEED ? Number(process.env.RELIABILITY_SEED) : Date.now() % 2_147_483_647;

/** Small seeded PRNG (mulberry32), as in test/projections/concurrent-writers. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
