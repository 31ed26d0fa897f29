import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { AppConfig } from '@accountable/config';
import { Keyring, loadKeys } from '@accountable/secrets';
import { HeadSigner, loadOrCreateSigningKey } from '@accountable/ledger';
import {
  createKysely,
  createPool,
  ensureAppRole,
  migrateToLatest,
  resolveDatabase,
  type Database,
  type EmbeddedPostgres,
} from '@accountable/database';

/**
 * What every process (service, projector, CLI, tests) needs before Nest starts: a reachable
 * database (embedded or DATABASE_URL), migrations applied, and the connection pools.
 */
export interface Runtime {
  config: AppConfig;
  databaseUrl: string;
  readDatabaseUrl: string;
  embedded?: EmbeddedPostgres;
  pool: pg.Pool;
  db: Kysely<Database>;
  /** Read-model queries; the same as `db` unless READ_DATABASE_URL is set. */
  readDb: Kysely<Database>;
  /** Seals secrets at rest (AES-256-GCM) under the newest key, opens them under any (README, "Encryption keys"). */
  keyring: Keyring;
  /** Signs the ledger's tree heads (Ed25519); its key is never in the database. */
  headSigner: HeadSigner;
  close(): Promise<void>;
}

export interface OpenRuntimeOptions {
  migrate?: boolean;
  /**
   * Connect as the tables' owner instead of the application role (embedded default only; with
   * DATABASE_URL there is one connection string for everything): for `migrate` and
   * `projections rebuild`, which create tables.
   */
  asOwner?: boolean;
  log?: (message: string) => void;
  applicationName?: string;
}

export async function openRuntime(config: AppConfig, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const keyring = new Keyring(
    await loadKeys({ keyHex: config.ENCRYPTION_KEY, previousKeysHex: config.ENCRYPTION_PREVIOUS_KEYS, dataDir: config.DATA_DIR }),
  );
  const headSigner = new HeadSigner(await loadOrCreateSigningKey({ keyHex: config.LEDGER_SIGNING_KEY, dataDir: config.DATA_DIR }));
  const target = await resolveDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR, log: options.log });
  const poolOptions = {
    max: config.DB_POOL_MAX,
    statementTimeoutMs: config.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: config.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    applicationName: options.applicationName ?? 'accountable',
  };
  try {
    // As the owner, on a connection of its own without the statement timeout: a migration that
    // builds an index over a large log takes longer than any request may.
    const owner = createKysely(createPool(target.url, { ...poolOptions, max: 1, statementTimeoutMs: undefined }));
    try {
      if (options.migrate !== false) {
        const applied = await migrateToLatest(owner);
        if (applied.length) options.log?.(`applied migrations: ${applied.join(', ')}`);
      }
      // The embedded default serves as a role that owns nothing (least privilege by default):
      // made, or brought up to date, here, after the migrations made the tables it is granted.
      if (target.embedded && !options.asOwner) await ensureAppRole(owner, target.embedded.appRole);
    } finally {
      await owner.destroy();
    }
  } catch (error) {
    await target.embedded?.stop();
    throw error;
  }
  const url = target.embedded && !options.asOwner ? target.embedded.appRole.url : target.url;
  const pool = createPool(url, poolOptions);
  const db = createKysely(pool);
  let readDb = db;
  if (config.READ_DATABASE_URL) readDb = createKysely(createPool(config.READ_DATABASE_URL, poolOptions));
  let closed = false;
  return {
    config,
    databaseUrl: url,
    readDatabaseUrl: config.READ_DATABASE_URL ?? url,
    embedded: target.embedded,
    pool,
    db,
    readDb,
    keyring,
    headSigner,
    async close() {
      if (closed) return;
      closed = true;
      if (readDb !== db) await readDb.destroy().catch(() => undefined);
      await db.destroy().catch(() => undefined);
      await target.embedded?.stop();
    },
  };
}
