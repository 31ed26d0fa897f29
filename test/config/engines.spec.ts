import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

/**
 * `npm ci` on Node 20 warns EBADENGINE for any installed package whose `engines.node` excludes
 * it (content-disposition 3 via @fastify/static 10 wanted Node 22: package.json overrides it to
 * 2.x, the same code built for Node 18). Every package in the lock file must allow Node 20.
 */
describe('engines', () => {
  it('every package in package-lock.json allows Node 20', () => {
    const root = path.resolve(__dirname, '../..');
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
    };
    const ours = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).engines.node as string;
    expect(semver.intersects(ours, '^20.0.0')).toBe(true);
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.engines && !Array.isArray(p.engines) && typeof p.engines.node === 'string')
      .filter(([, p]) => !semver.intersects((p.engines as { node: string }).node, '>=20.19.0 <21.0.0'))
      .map(([name, p]) => `${name}@${p.version}: node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });
});
