import { Kysely, Migrator, type MigrationResultSet } from 'kysely';
import { migrations } from '../../../db/migrations';

/** The one migrator: used by the service at start-up, `cli migrate` and the test template. */
export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => migrations } });
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
