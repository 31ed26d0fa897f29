import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // The audit history (what Monitor v1 Events serves): one row per audited event, written only by
  // the `audit` projection from the feed. `sid` is the event id re-spelled (AE + 32 hex), so a
  // redelivered event collides on the primary key and changes nothing.
  //
  // `account_sid` is the main account owning the resource: a main account sees its own rows, a
  // subaccount the rows whose `resource_sid` is itself.
  await sql`
    CREATE TABLE audit_history (
      sid               text PRIMARY KEY,
      event_id          uuid NOT NULL,
      global_position   bigint NOT NULL,
      account_sid       text NOT NULL,
      resource_sid      text NOT NULL,
      resource_type     text NOT NULL,
      event_type        text NOT NULL,
      event_data        jsonb,
      actor_type        text NOT NULL,
      actor_sid         text,
      source            text NOT NULL,
      source_ip_address text,
      user_agent        text,
      request_id        text,
      correlation_id    text,
      causation_id      text,
      description       text,
      -- Page tokens carry milliseconds; a finer stored value would fall between two tokens.
      event_date        timestamptz NOT NULL CHECK (event_date = date_trunc('milliseconds', event_date))
    )`.execute(db);

  // Every list is newest first, (event_date, sid) descending, within the caller's visibility:
  // one index per filter, each ending in the list order, so no page is ever sorted and a keyset
  // cursor or a date range is one index range.
  await sql`CREATE INDEX audit_history_account_idx ON audit_history (account_sid, event_date DESC, sid DESC)`.execute(db);
  await sql`CREATE INDEX audit_history_account_actor_idx ON audit_history (account_sid, actor_sid, event_date DESC, sid DESC)`.execute(db);
  await sql`CREATE INDEX audit_history_account_type_idx ON audit_history (account_sid, event_type, event_date DESC, sid DESC)`.execute(db);
  await sql`CREATE INDEX audit_history_account_ip_idx ON audit_history (account_sid, source_ip_address, event_date DESC, sid DESC)`.execute(db);
  // One resource's history: the ResourceSid filter, a subaccount's whole visibility, and the
  // projection's owner lookup (a resource's `account.created` row).
  await sql`CREATE INDEX audit_history_resource_idx ON audit_history (resource_sid, event_date DESC, sid DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS audit_history`.execute(db);
}
