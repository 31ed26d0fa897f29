import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // The account read model (what the Accounts API serves). Written inline by the command that
  // appends (read-your-writes) and by the `accounts` projection from the feed; both go through
  // the same version-guarded statements, so whichever comes second changes nothing.
  await sql`
    CREATE TABLE account_read_model (
      sid                text PRIMARY KEY,
      owner_account_sid  text NOT NULL,
      is_main            boolean NOT NULL,
      friendly_name      text NOT NULL,
      type               text NOT NULL,
      status             text NOT NULL,
      auth_token         text NOT NULL,
      suspended_by_owner boolean NOT NULL DEFAULT false,
      open_subaccounts   integer NOT NULL DEFAULT 0,
      date_created       timestamptz NOT NULL,
      date_updated       timestamptz NOT NULL,
      version            bigint NOT NULL
    )`.execute(db);
  // A main account owns itself, so one index serves "the caller and its subaccounts" in list
  // order (date_created, sid), and the exact-match filters within it.
  await sql`CREATE INDEX account_read_model_owner_idx ON account_read_model (owner_account_sid, date_created, sid)`.execute(db);
  await sql`CREATE INDEX account_read_model_owner_name_idx ON account_read_model (owner_account_sid, friendly_name, date_created, sid)`.execute(db);
  await sql`CREATE INDEX account_read_model_owner_status_idx ON account_read_model (owner_account_sid, status, date_created, sid)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS account_read_model`.execute(db);
}
