export * from './schema';
export { createPool, createKysely, PREPARED, PREPARED_MARK, type PoolOptions } from './connection';
export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedOptions } from './embedded-postgres';
export { startEmbeddedReplica, type EmbeddedReplica } from './embedded-replica';
export { resolveDatabase, type DatabaseTarget } from './resolve-database';
export { createMigrator, migrateToLatest, pendingMigrations } from './migrator';
export { ADVISORY_LOCK_CLASS, ADVISORY_LOCK_KEY } from './advisory-locks';
export { APP_ROLE, APP_ROLE_GRANTS, NOT_GRANTED, ensureAppRole, expectedGrants, grantsOf } from './app-role';
export { FEED_READER_APPLICATION_NAME } from './feed-readers';
