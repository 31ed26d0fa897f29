import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // API keys (v2010 Keys), part of the `accounts` projection: written inline by the command
  // that appends their event and by the projection from the feed, each write behind the
  // account row's version guard. Only a verifier of the secret is stored, never the secret.
  await sql`
    CREATE TABLE api_keys (
      sid             text PRIMARY KEY,
      account_sid     text NOT NULL,
      friendly_name   text,
      secret_verifier text NOT NULL,
      date_created    timestamptz NOT NULL,
      date_updated    timestamptz NOT NULL
    )`.execute(db);
  // An account's keys in list order.
  await sql`CREATE INDEX api_keys_account_idx ON api_keys (account_sid, date_created, sid)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS api_keys`.execute(db);
}
