import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // Event Streams sinks (events.twilio.com/v1 Sinks). Each account's sink and subscription
  // changes are events on its `event-streams-AC…` stream; these rows are their current state,
  // written in the transaction that appends the event. The delivery columns below are
  // operational state the delivery loop writes directly (as a checkpoint is), not events.
  await sql`
    CREATE TABLE event_sinks (
      sid                    text PRIMARY KEY,
      account_sid            text NOT NULL,
      -- The owning account's main account (itself for a main account): visibility is decided
      -- on the row alone, as for accounts (a main account reaches its subaccounts' sinks).
      owner_account_sid      text NOT NULL,
      description            text NOT NULL,
      sink_type              text NOT NULL CHECK (sink_type IN ('webhook', 'nats')),
      sink_configuration     jsonb NOT NULL,
      -- A webhook destination's user:password@ password, sealed with the sink sid as context
      -- (the configuration keeps **** in its place); null when there is none.
      destination_password_sealed text,
      status                 text NOT NULL CHECK (status IN ('initialized', 'validating', 'active', 'failed')),
      test_id                text,
      date_created           timestamptz NOT NULL,
      date_updated           timestamptz NOT NULL,
      -- The feed position of the SinkCreated event: nothing committed before it is delivered.
      created_transaction_id xid8 NOT NULL,
      created_position       bigint NOT NULL,
      failure_count          integer NOT NULL DEFAULT 0,
      first_failure_at       timestamptz,
      last_failure_at        timestamptz,
      last_failure_code      integer,
      last_failure_message   text,
      last_delivered_at      timestamptz,
      delivered_count        bigint NOT NULL DEFAULT 0,
      dropped_count          bigint NOT NULL DEFAULT 0
    )`.execute(db);
  await sql`CREATE INDEX event_sinks_account_idx ON event_sinks (account_sid, date_created, sid)`.execute(db);
  await sql`CREATE INDEX event_sinks_owner_idx ON event_sinks (owner_account_sid, date_created, sid)`.execute(db);

  // One subscription per sink (Twilio answers "Sink … is in use" to a second one).
  await sql`
    CREATE TABLE event_subscriptions (
      sid                    text PRIMARY KEY,
      account_sid            text NOT NULL,
      owner_account_sid      text NOT NULL,
      sink_sid               text NOT NULL UNIQUE REFERENCES event_sinks (sid),
      description            text NOT NULL,
      date_created           timestamptz NOT NULL,
      date_updated           timestamptz NOT NULL,
      created_transaction_id xid8 NOT NULL,
      created_position       bigint NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX event_subscriptions_account_idx ON event_subscriptions (account_sid, date_created, sid)`.execute(db);
  await sql`CREATE INDEX event_subscriptions_owner_idx ON event_subscriptions (owner_account_sid, date_created, sid)`.execute(db);

  await sql`
    CREATE TABLE event_subscribed_types (
      subscription_sid text NOT NULL REFERENCES event_subscriptions (sid) ON DELETE CASCADE,
      type             text NOT NULL,
      schema_version   integer NOT NULL,
      account_sid      text NOT NULL,
      PRIMARY KEY (subscription_sid, type)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS event_subscribed_types`.execute(db);
  await sql`DROP TABLE IF EXISTS event_subscriptions`.execute(db);
  await sql`DROP TABLE IF EXISTS event_sinks`.execute(db);
}
