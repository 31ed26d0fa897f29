import { Kysely, PostgresDialect, sql, type PostgresCursor, type PostgresPool, type PostgresPoolClient } from 'kysely';
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
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
}

/**
 * The end of a statement's SQL that asks for it to be sent as a named (prepared) statement: the
 * server parses and plans it once per connection instead of at every call. For the hot paths
 * only — their texts are fixed by the code, so the set of names stays small — and never for a
 * `SELECT *` whose table a migration might change under a running process (a prepared plan must
 * keep its result's columns). A kysely builder adds it with `.modifyEnd(PREPARED)`, a `sql`
 * template ends with `${PREPARED}`.
 */
export const PREPARED_MARK = '/* prepared */';
export const PREPARED = sql.raw(PREPARED_MARK);

/** One name per marked text, the same in every connection of this process (pg refuses a name reused for another text). */
const statementNames = new Map<string, string>();

function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) statementNames.set(text, (name = `accountable_${statementNames.size + 1}`));
  return name;
}

/** The pool as kysely sees it: a marked statement goes out as `{ name, text, values }`. */
function withNamedStatements(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    async connect() {
      const client = await pool.connect();
      let wrapper = wrapped.get(client);
      if (!wrapper) {
        wrapper = {
          query: ((textOrCursor: string | PostgresCursor<unknown>, values?: ReadonlyArray<unknown>): unknown =>
            typeof textOrCursor === 'string' && textOrCursor.endsWith(PREPARED_MARK)
              ? client.query({ name: statementName(textOrCursor), text: textOrCursor, values: values as unknown[] })
              : client.query(textOrCursor as never, values as unknown[])) as PostgresPoolClient['query'],
          release: (destroy?: boolean) => client.release(destroy),
        };
        wrapped.set(client, wrapper);
      }
      return wrapper;
    },
    end: () => pool.end(),
  };
}

export { types as pgTypes };
