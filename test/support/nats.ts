import { spawnSync } from 'node:child_process';

/** The NATS server the tests use (JetStream enabled); DEVELOPERS.md says how to start it. */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** Whether something accepts TCP connections at NATS_URL, asked synchronously so that a spec can choose describe or describe.skip. */
export function natsReachable(): boolean {
  const { hostname, port } = new URL(NATS_URL);
  const probe = `require('node:net').connect({host:${JSON.stringify(hostname)},port:${Number(port || 4222)}}).on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`;
  return spawnSync(process.execPath, ['-e', probe], { timeout: 3000 }).status === 0;
}

/**
 * `describe` for specs that need NATS. Without a server they are skipped, saying so; in CI
 * (`CI=true`), which always has one, a missing server fails instead of skipping.
 */
export function describeWithNats(name: string, body: () => void): void {
  if (natsReachable()) return describe(name, body);
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs a NATS server', () => {
        throw new Error(`no NATS server at ${NATS_URL}: CI must run the NATS specs`);
      });
    });
    return;
  }
  console.warn(`${name}: skipped, no NATS server at ${NATS_URL} (start one as DEVELOPERS.md says; CI runs these)`);
  describe.skip(name, body);
}
