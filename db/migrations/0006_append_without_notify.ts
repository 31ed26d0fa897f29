import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * append_to_stream without its NOTIFY. A transaction that has notified takes a database-wide
 * lock at commit and holds it through its WAL flush, so every appending transaction committed
 * alone instead of sharing a flush with the others (group commit): under 16 concurrent
 * appenders 93 % of their waits were that lock, and pgbench ran the function ~6x faster
 * without the line. The writer now wakes projectors after its commit instead (see
 * EventStore.committed: in-process at once, other processes by one coalesced NOTIFY), and they
 * poll as before when a wake-up is missed. Everything else is the first migration's function,
 * unchanged; this is now its current definition.
 */
export async function up(db: Kysely<any>): Promise<void> {
  // append_to_stream: the only writer of `streams` and `events`, one round trip per append.
  //
  // Why an advisory lock before the stream-row write: PostgreSQL assigns a transaction id at
  // the *start* of a row update, before waiting for the row lock. Two appenders racing on one
  // stream could then commit versions in the opposite order of their xids, and the feed (read
  // in xid order) would deliver version N+1 before N. The advisory lock takes no xid, so the
  // waiter only gets its xid after the holder has committed: per stream, xid order = version
  // order. The stream-row write that follows is the first write of the transaction and the
  // version check the database enforces.
  //
  // Outcomes: 'appended', 'idempotent' (the same event ids already sit at these positions of
  // this stream: nothing written), 'wrong_version', 'duplicate_event' (an event id exists
  // elsewhere, or twice in this append). A concurrent append of the same id to another stream
  // raises unique_violation on events_event_id_key instead (see the insert).
  await sql`
    CREATE OR REPLACE FUNCTION append_to_stream(
      p_stream_id text,
      p_expected_kind text,       -- 'exact' | 'no_stream' | 'stream_exists' | 'any'
      p_expected_version bigint,  -- for 'exact'; 0 means the stream must not exist
      p_event_ids uuid[],
      p_types text[],
      p_schema_versions integer[],
      p_data jsonb[],
      p_metadata jsonb[]
    ) RETURNS TABLE (
      outcome text,
      actual_version bigint,
      first_position bigint,
      last_position bigint,
      tx xid8
    ) LANGUAGE plpgsql AS $$
    DECLARE
      v_count integer := cardinality(p_event_ids);
      v_current bigint;
      v_known integer;
      v_matching integer;
      v_first bigint;
      v_base bigint;
      v_inserted integer;
      v_first_position bigint;
      v_last_position bigint;
    BEGIN
      IF v_count IS NULL OR v_count = 0 THEN
        RAISE EXCEPTION 'append_to_stream needs at least one event' USING ERRCODE = 'invalid_parameter_value';
      END IF;

      PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));

      SELECT s.version INTO v_current FROM streams s WHERE s.stream_id = p_stream_id;

      IF (SELECT count(DISTINCT u.id) FROM unnest(p_event_ids) AS u(id)) <> v_count THEN
        RETURN QUERY SELECT 'duplicate_event'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8;
        RETURN;
      END IF;

      -- Idempotency: a retried append carries the same event ids. It succeeds without writing
      -- when every id already sits, in order, at the positions this append would have used, and
      -- reports the version that append produced (not the stream's current one, which may be
      -- newer: the caller's state does not include what came after its own events).
      SELECT count(*) INTO v_known FROM events e WHERE e.event_id = ANY (p_event_ids);
      IF v_known > 0 THEN
        SELECT e.stream_version INTO v_first
          FROM events e WHERE e.event_id = p_event_ids[1] AND e.stream_id = p_stream_id;
        SELECT count(*) INTO v_matching
          FROM unnest(p_event_ids) WITH ORDINALITY AS u(id, ord)
          JOIN events e ON e.event_id = u.id AND e.stream_id = p_stream_id AND e.stream_version = v_first + u.ord - 1;
        IF v_first IS NOT NULL AND v_matching = v_count
           AND (p_expected_kind <> 'exact' OR v_first = p_expected_version + 1)
           AND (p_expected_kind <> 'no_stream' OR v_first = 1) THEN
          RETURN QUERY SELECT 'idempotent'::text, v_first + v_count - 1, NULL::bigint, NULL::bigint, NULL::xid8;
        ELSE
          RETURN QUERY SELECT 'duplicate_event'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8;
        END IF;
        RETURN;
      END IF;

      IF (p_expected_kind = 'exact' AND coalesce(v_current, 0) <> p_expected_version)
         OR (p_expected_kind = 'no_stream' AND v_current IS NOT NULL)
         OR (p_expected_kind = 'stream_exists' AND v_current IS NULL) THEN
        RETURN QUERY SELECT 'wrong_version'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8;
        RETURN;
      END IF;

      v_base := coalesce(v_current, 0);
      INSERT INTO streams AS s (stream_id, version) VALUES (p_stream_id, v_base + v_count)
        ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_count, updated_at = now()
        WHERE s.version = v_base;
      IF NOT FOUND THEN
        -- Unreachable while every writer goes through this function (the advisory lock
        -- serialises them); kept so the database, not the caller, has the last word.
        RETURN QUERY SELECT 'wrong_version'::text, (SELECT s.version FROM streams s WHERE s.stream_id = p_stream_id), NULL::bigint, NULL::bigint, NULL::xid8;
        RETURN;
      END IF;

      -- An event id can still arrive from a concurrent append to another stream, after the
      -- check above (the stream lock does not cover it). Waiting on that writer and then
      -- skipping, instead of a bare unique violation, lets us raise an error that says which
      -- constraint and which stream version; the raise undoes this append's writes.
      WITH inserted AS (
        INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
        SELECT p_stream_id, v_base + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
               WITH ORDINALITY AS e(event_id, type, schema_version, data, metadata, ord)
         ORDER BY e.ord
        ON CONFLICT (event_id) DO NOTHING
        RETURNING global_position
      )
      SELECT count(*), min(i.global_position), max(i.global_position) INTO v_inserted, v_first_position, v_last_position
        FROM inserted i;
      IF v_inserted <> v_count THEN
        RAISE EXCEPTION 'an event id of this append to % was stored concurrently elsewhere', p_stream_id
          USING ERRCODE = 'unique_violation', CONSTRAINT = 'events_event_id_key',
                DETAIL = json_build_object('actual_version', v_current)::text;
      END IF;

      RETURN QUERY SELECT 'appended'::text, v_base + v_count, v_first_position, v_last_position, pg_current_xact_id();
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  // Puts the first migration's NOTIFY back in front of the success answer.
  await sql`
    DO $do$
    DECLARE
      v_def text := pg_get_functiondef('append_to_stream'::regproc);
      v_anchor text := 'RETURN QUERY SELECT ''appended''::text';
    BEGIN
      IF position(v_anchor IN v_def) = 0 THEN
        RAISE EXCEPTION 'append_to_stream does not have the expected shape';
      END IF;
      EXECUTE replace(v_def, v_anchor, format('PERFORM pg_notify(%L, %L);', 'accountable_events', '') || chr(10) || '      ' || v_anchor);
    END $do$`.execute(db);
}
