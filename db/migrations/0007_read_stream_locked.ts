import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // A command's decision reads its stream under the stream's lock (the one append_to_stream
  // takes), so that what it read stays true until it commits. Lock and read were two round trips;
  // here they are one. The read is a separate statement after the lock: in a VOLATILE function
  // each statement takes a fresh snapshot (under READ COMMITTED, the service's level), so it sees
  // everything the previous holder of the lock committed while this caller waited.
  await sql`
    CREATE FUNCTION read_stream_locked(p_stream_id text) RETURNS SETOF events
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));
      RETURN QUERY SELECT * FROM events e WHERE e.stream_id = p_stream_id ORDER BY e.stream_version;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS read_stream_locked`.execute(db);
}
