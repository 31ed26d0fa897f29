import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ADVISORY_LOCK_CLASS, ADVISORY_LOCK_KEY } from './advisory-locks';

const ROOT = path.resolve(__dirname, '../../..');

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) sources(full, out);
    else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.spec.ts')) out.push(full);
  }
  return out;
}

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

  it('every advisory lock taken in apps/ and libs/ is a stream lock or a key space of this file', () => {
    const outside = sources(path.join(ROOT, 'libs'))
      .concat(sources(path.join(ROOT, 'apps')))
      .filter((file) => !file.endsWith('advisory-locks.ts'))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return /pg_(try_)?advisory(_xact)?_(un)?lock/.test(text) && !/ADVISORY_LOCK_(KEY|CLASS)|hashtextextended\(/.test(text);
      })
      .map((file) => path.relative(ROOT, file));
    expect(outside).toEqual([]);
  });
});
