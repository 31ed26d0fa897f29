import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The feed's fence no longer waits for the projectors' own transactions.
 *
 * The feed delivers an event once every transaction that took its id earlier has ended
 * (`pg_snapshot_xmin`): one of them might still insert an event that sorts before it. But most
 * open transactions with an id are not appenders: each projector batch takes one (its checkpoint
 * update) and holds it for the batch's round trips, the ledger's for its hashing and signing too.
 * Under the create load they held the fence for 13 ms (p50) to 160 ms (p99) a batch, the ledger's
 * for ~280 ms, and every projection, the ledger and every Event Streams sink waited behind them:
 * that, not the commands, was most of the projection lag.
 *
 * `feed_fence()` is the oldest running transaction that may append: the snapshot's running ids
 * less those of sessions that never append — the sessions named by
 * `feed_reader_application_names()` (the projector pool and runners, Event Streams delivery).
 * With none running it is the snapshot's xmax, as pg_snapshot_xmin is. Excluding an id is safe
 * only if its session cannot have inserted an event, so an insert into `events` from such a
 * session is refused (the statement trigger below), and the rule does not rest on the code alone.
 *
 * Sessions are matched through pg_stat_activity, which shows a session's `backend_xid` only to
 * its own role (or to pg_read_all_stats): a reader running as another role sees none of the
 * projectors' ids and waits for them, as before (slower, never wrong). A stale read of
 * pg_stat_activity (it is read once per transaction) is harmless the same way: an id a reader
 * session ever held is never an appender's.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION feed_reader_application_names() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
      SELECT ARRAY['accountable-projector', 'accountable-event-streams']
    $$`.execute(db);
  await sql`
    CREATE FUNCTION feed_fence() RETURNS xid8 LANGUAGE sql STABLE AS $$
      SELECT coalesce(
        (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) x
          WHERE x::text::bigint % 4294967296 NOT IN (
            SELECT a.backend_xid::text::bigint FROM pg_stat_activity a
             WHERE a.backend_xid IS NOT NULL AND a.application_name = ANY (feed_reader_application_names()))),
        pg_snapshot_xmax(pg_current_snapshot()))
    $$`.execute(db);
  await sql`
    CREATE FUNCTION events_not_from_feed_readers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('application_name') = ANY (feed_reader_application_names()) THEN
        RAISE EXCEPTION 'a session named % reads the feed and may not append events: the feed''s fence does not wait for it (migration 0020)',
          current_setting('application_name') USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER events_not_from_feed_readers BEFORE INSERT ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_not_from_feed_readers()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS events_not_from_feed_readers ON events`.execute(db);
  await sql`DROP FUNCTION IF EXISTS events_not_from_feed_readers()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS feed_fence()`.execute(db);
  await sql`DROP FUNCTION IF EXISTS feed_reader_application_names()`.execute(db);
}
