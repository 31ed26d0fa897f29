import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { AppConfig } from '@accountable/config';

/**
 * A start-up failure the operator can fix, said in one line: what went wrong and what to do.
 * `data-dir`: DATA_DIR cannot be used (a configuration mistake). `database`: the database could
 * not be reached or refused the connection.
 */
export class StartupFailure extends Error {
  override readonly name = 'StartupFailure';

  constructor(
    readonly kind: 'data-dir' | 'database',
    message: string,
  ) {
    super(message);
  }
}

/** What an embedded DATA_DIR holds (libs/database, libs/secrets, libs/ledger, the first run); anything else is not ours. */
const OURS = /^(pg|pg-[\w-]+|postgres\.log|encryption\.key|ledger-signing\.key|first-run-credentials\.env|\.pg-init-.*|\.pwfile-.*)$/;

/**
 * Checks DATA_DIR before anything is written into it: a file, a directory this user may not
 * write, or — for the embedded database — a directory full of something else (a typo'd path,
 * `$HOME`) is refused with a StartupFailure instead of an errno or a PostgreSQL cluster
 * initialised among someone's files.
 */
export function checkDataDir(config: AppConfig): void {
  const embedded = !config.DATABASE_URL;
  // DATA_DIR is not used then but for the ledger's key when LEDGER_SIGNING_KEY is unset (libs/ledger creates it).
  if (!embedded && config.ENCRYPTION_KEY) return;
  const dir = config.DATA_DIR;
  const fix = 'set DATA_DIR to the service\'s data directory (default .data, beside package.json)';
  const stat = statOrUndefined(dir);
  if (stat && !stat.isDirectory()) throw new StartupFailure('data-dir', `DATA_DIR=${dir} is a file, not a directory: ${fix}`);
  if (!stat) {
    const ancestor = nearestExisting(path.resolve(dir));
    if (!statSync(ancestor).isDirectory()) throw new StartupFailure('data-dir', `DATA_DIR=${dir} cannot be created: ${ancestor} is a file: ${fix}`);
    if (!accessible(ancestor)) throw new StartupFailure('data-dir', `DATA_DIR=${dir} cannot be created: ${ancestor} is not writable by this user: ${fix}, or create it for this user`);
    return;
  }
  if (!accessible(dir)) throw new StartupFailure('data-dir', `DATA_DIR=${dir} is not writable by this user: run as its owner, or ${fix}`);
  if (embedded) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.some((entry) => OURS.test(entry))) {
      throw new StartupFailure('data-dir', `DATA_DIR=${dir} holds other files and no Accountable data (no pg/ in it): ${fix}, or to an empty or new directory`);
    }
  }
}

/** True when DATA_DIR has no embedded database yet (nothing to read there). */
export function dataDirHasNoDatabase(config: AppConfig): boolean {
  return !config.DATABASE_URL && !existsSync(path.join(config.DATA_DIR, 'pg', 'PG_VERSION'));
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function nearestExisting(dir: string): string {
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function accessible(dir: string): boolean {
  try {
    accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

/**
 * The one-line explanation of a start-up error the operator can act on (a StartupFailure, or a
 * connection refused, a login refused, a database missing — found anywhere in the error's
 * `cause` chain, as the migrator wraps them); undefined for anything else (a bug: show its stack).
 */
export function explainStartupFailure(error: unknown, config: AppConfig): StartupFailure | undefined {
  const where = describeDatabase(config, true);
  const fix = config.DATABASE_URL ? 'fix DATABASE_URL (unset, the service runs its own embedded PostgreSQL in DATA_DIR)' : `see ${path.join(config.DATA_DIR, 'postgres.log')}`;
  for (let e = error as (Error & { code?: string; cause?: unknown }) | undefined, depth = 0; e && depth < 10; e = e.cause as typeof e, depth++) {
    if (e instanceof StartupFailure) return e;
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code === 'ECONNREFUSED') return new StartupFailure('database', `cannot reach the database: nothing is listening at ${where} (connection refused): start PostgreSQL there, or ${fix}`);
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new StartupFailure('database', `cannot reach the database: the host of ${where} was not found: ${fix}`);
    if (code && UNREACHABLE.has(code)) return new StartupFailure('database', `cannot reach the database at ${where} (${code}): check that it runs and the network to it, or ${fix}`);
    if (/connection timeout|timeout expired/i.test(e.message ?? '')) return new StartupFailure('database', `cannot reach the database at ${where}: no answer (timed out): check that it runs and the network to it, or ${fix}`);
    if (code === '28P01' || code === '28000') return new StartupFailure('database', `the database at ${where} refused the login (${e.message}): ${config.DATABASE_URL ? 'fix the user or password in DATABASE_URL' : fix}`);
    if (code === '3D000') return new StartupFailure('database', `the database at ${where} refused: ${e.message}: create it, or ${fix}`);
    if (code === '53300' || code === '57P03') return new StartupFailure('database', `the database at ${where} is not accepting connections now (${e.message}): try again shortly`);
    if (/^could not start or join the embedded PostgreSQL/.test(e.message ?? '')) return new StartupFailure('database', e.message);
  }
  return undefined;
}

/**
 * Which database this is, for a message: DATABASE_URL's `host:port/database` (never its user or
 * password), or the embedded one in DATA_DIR. `bare`: the address alone, after "at".
 */
export function describeDatabase(config: AppConfig, bare = false): string {
  if (!config.DATABASE_URL) return bare ? `the embedded PostgreSQL in ${path.join(config.DATA_DIR, 'pg')}` : `the embedded database in ${config.DATA_DIR}`;
  let address = 'DATABASE_URL';
  try {
    const url = new URL(config.DATABASE_URL);
    address = `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    // Validated as postgres://…; an unparsable one is still named.
  }
  return bare ? address : `the database at ${address}`;
}
