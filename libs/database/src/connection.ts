import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

export interface PoolOptions {
  max?: number;
  /** Server-side guard for every statement of this pool, in ms. */
  statementTimeoutMs?: number;
  /**
   * Kills sessions that sit idle inside a transaction. Besides freeing locks, this protects
   * the feed: an open transaction holding an xid stops `pg_snapshot_xmin` from advancing,
   * which holds back every projection.
   */
  idleInTransactionTimeoutMs?: number;
  applicationName?: string;
  connectionTimeoutMs?: number;
  /**
   * Commits return before their WAL is flushed. Only for writes that can be redone from the
   * event log (projections: a batch and its checkpoint are lost together, and re-applied).
   */
  asynchronousCommit?: boolean;
}

const INT8_OID = 20;
const NUMERIC_SAFE = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${value} exceeds Number.MAX_SAFE_INTEGER`);
  return n;
};

/**
 * int8 columns (global positions, versions, counts) come back as numbers; they stay far
 * below 2^53. The parser throws rather than silently losing precision.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? NUMERIC_SAFE : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const settings: string[] = [];
  if (options.statementTimeoutMs) settings.push(`-c statement_timeout=${options.statementTimeoutMs}`);
  settings.push(`-c idle_in_transaction_session_timeout=${options.idleInTransactionTimeoutMs ?? 10_000}`);
  if (options.asynchronousCommit) settings.push('-c synchronous_commit=off');
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'accountable',
    options: settings.join(' '),
    types,
    // A server that accepts no connection (down, or unreachable) fails the checkout after 5 s —
    // a 503 — instead of leaving the request waiting for the pool forever.
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5_000,
  });
  // An idle client losing its connection (e.g. a database restart) must not crash the process;
  // the pool drops it and the next checkout reconnects.
  pool.on('error', () => undefined);
  // Nor a checked-out one: pg-pool listens for errors on idle clients only, and a client that is
  // checked out but between queries (a transaction awaiting something else) when the server ends
  // its session (shutdown, 57P01) or its socket drops would raise an unhandled 'error' event,
  // which ends the process. Its next query fails (a 503), and the pool discards it on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createKysely(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export { types as pgTypes };
