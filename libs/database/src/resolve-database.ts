import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';

export interface DatabaseTarget {
  /** DATABASE_URL; with the embedded default, its owner (for migrations and rebuilds). */
  url: string;
  /** Present when no DATABASE_URL was given and the embedded server is in use. */
  embedded?: EmbeddedPostgres;
}

/** `DATABASE_URL` if set, else the embedded PostgreSQL in `dataDir` (started or joined). */
export async function resolveDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  log?: (message: string) => void;
}): Promise<DatabaseTarget> {
  if (options.databaseUrl) return { url: options.databaseUrl };
  const embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, log: options.log });
  return { url: embedded.url, embedded };
}
