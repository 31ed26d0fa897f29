import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // Which keys sealed the auth tokens in the log: `v2.<key id>` for values that name their key,
  // `v1` for those sealed before key ids, null for anything else (no key opens it). Start-up
  // walks the distinct values (one index probe each) and opens a sample of each, to refuse a
  // keyring that cannot open the stored secrets before serving anything. Partial: only the two
  // creation events carry a token. At most 14 characters, whatever an odd writer stored.
  await sql`
    CREATE INDEX events_sealing_key_idx
        ON events ((substring(data->>'authToken' from '^(v1|v2\\.[A-Za-z0-9_-]{11})\\.')))
     WHERE type IN ('MainAccountCreated', 'SubaccountCreated')`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS events_sealing_key_idx`.execute(db);
}
