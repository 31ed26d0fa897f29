import { Kysely, Migrator, type MigrationResultSet } from 'kysely';
import { migrations } from '../../../db/migrations';

/** The one migrator: used by the service at start-up, `cli migrate` and the test template. */
export function createMigrator(db: Kysely<any>): Migrator {
  // Numbers are handed out to parallel branches ahead of time, so one can land after a higher
  // number already ran on a database (0017 after 0018): each migration stands alone, so run it.
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
}

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const result: MigrationResultSet = await createMigrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${String((result.error as Error).message ?? result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations known to the code but not applied to the database. */
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const infos = await createMigrator(db).getMigrations();
  return infos.filter((m) => !m.executedAt).map((m) => m.name);
}
