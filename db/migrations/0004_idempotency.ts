import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // One row per Idempotency-Key an account used on a POST that succeeded, inserted in the same
  // transaction as the request's events (or alone, for a POST that changed nothing), so a key
  // is recorded if and only if its request committed. `response` is the answer to replay, sealed
  // (it holds an auth token); `request_hash` tells a retry from another request under the same key.
  //
  // Keys are honoured for 24 hours from `created_at`: an older row is ignored and replaced when
  // its key is used again. Rows past that can be deleted at any time (the index serves that).
  await sql`
    CREATE TABLE idempotency_keys (
      account_sid  text NOT NULL,
      key          text NOT NULL CHECK (octet_length(key) BETWEEN 1 AND 255),
      request_hash text NOT NULL,
      response     text NOT NULL,
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (account_sid, key)
    )`.execute(db);
  await sql`CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS idempotency_keys`.execute(db);
}
