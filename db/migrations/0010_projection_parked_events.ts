import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // Events a projection could not apply (a deterministic failure: the event itself, not the
  // database), set aside so that the projection goes on with the events after them. A row is
  // written in the transaction that moves the projection's checkpoint past the event, and
  // deleted in the transaction that finally applies it (a retry after a fix), so every event is
  // either applied once or parked, never both, never neither. Keyed by the feed position: one
  // event is parked at most once per projection.
  await sql`
    CREATE TABLE projection_parked_events (
      projection      text NOT NULL,
      transaction_id  xid8 NOT NULL,
      global_position bigint NOT NULL,
      event_id        uuid NOT NULL,
      event_type      text NOT NULL,
      -- The failure as the projection met it: its SQLSTATE when the database raised it, the
      -- error's name otherwise, and its message (bounded by the writer).
      error_code      text,
      error           text NOT NULL,
      attempts        integer NOT NULL DEFAULT 1,
      parked_at       timestamptz NOT NULL DEFAULT now(),
      last_attempt_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (projection, global_position)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS projection_parked_events`.execute(db);
}
