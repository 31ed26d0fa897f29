import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // The secondary auth token, sealed like auth_token; read with it by authentication, in the
  // same row, so both tokens are checked in one statement and a promotion (which moves it to
  // auth_token) is seen by the next request in every process.
  await sql`ALTER TABLE account_read_model ADD COLUMN secondary_auth_token text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE account_read_model DROP COLUMN IF EXISTS secondary_auth_token`.execute(db);
}
