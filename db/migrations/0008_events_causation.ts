import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // An account's history links each event to what it caused (the owner cascade's follow-ups name
  // their parent in `metadata.causationId`). Partial: only caused events carry the key, so
  // appends of everything else add no index entry.
  await sql`CREATE INDEX events_causation_idx ON events ((metadata->>'causationId')) WHERE metadata ? 'causationId'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS events_causation_idx`.execute(db);
}
