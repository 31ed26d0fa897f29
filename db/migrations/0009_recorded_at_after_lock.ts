import { Kysely, sql } from 'kysely';
import { up as appendWithTransactionTime } from './0006_append_without_notify';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Event times that follow versions. `recorded_at` was the appending transaction's start
 * (`now()`): a command that began first and then queued on the stream lock stored the later
 * version with the earlier time, so per stream time could run back against versions (time
 * travel then folded a later version onto an earlier one, and date_updated could go backwards).
 *
 * From here on each append stamps its events once it holds the stream lock, and never earlier
 * than the stream's previous event: `greatest(clock_timestamp(), streams.updated_at)`. The
 * stream row's `updated_at` (and `created_at`) become that time too, so the previous event's
 * time is read with the version the function reads anyway: no extra read, no extra round trip.
 * Until now `streams.updated_at` was its last append's now(), which was also that append's
 * `recorded_at`: the rule holds from the first new append of every existing stream.
 *
 * `append_to_stream` also returns the time it stamped (`recorded_at`, the same for every event
 * of one append), so the command's inline read-model write uses the event's own time instead of
 * its transaction's now(). The return type changes, so the function is dropped and created
 * again; the privileges granted on it are carried over.
 *
 * `event_clock` records where the rule took effect: events after `monotonic_after_position`
 * follow it (verify checks them; earlier ones keep the times they were stored with). The events
 * table is locked against appends while that position is read, so every event at or below it is
 * stored and none above it was appended before this commit... except by an append already inside
 * the old function, queued on this lock, which still stamps its transaction's now(): it can only
 * run back against an event at or below the position, so verify compares pairs whose earlier
 * event is above it.
 *
 * This is the current definition of append_to_stream (0001 made it, 0006 dropped its NOTIFY).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`LOCK TABLE events IN SHARE MODE`.execute(db);
  await sql`
    CREATE TABLE event_clock (
      one                       boolean PRIMARY KEY DEFAULT true CHECK (one),
      monotonic_after_position  bigint NOT NULL,
      since                     timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`COMMENT ON TABLE event_clock IS 'events after monotonic_after_position are stamped after their stream lock and never before the previous event of their stream (migration 0009)'`.execute(
    db,
  );
  await sql`INSERT INTO event_clock (monotonic_after_position) SELECT coalesce(max(global_position), 0) FROM events`.execute(db);
  // Read by verify, whatever role it connects as; it says nothing about any account.
  await sql`GRANT SELECT ON event_clock TO PUBLIC`.execute(db);

  const grants = await privilegesOf(db);
  await sql`DROP FUNCTION append_to_stream(text, text, bigint, uuid[], text[], integer[], jsonb[], jsonb[])`.execute(db);

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
  // The time is taken after that lock and never before the stream's last time (kept on its
  // row): per stream, time order = version order too.
  //
  // Outcomes: 'appended', 'idempotent' (the same event ids already sit at these positions of
  // this stream: nothing written), 'wrong_version', 'duplicate_event' (an event id exists
  // elsewhere, or twice in this append). A concurrent append of the same id to another stream
  // raises unique_violation on events_event_id_key instead (see the insert).
  await sql`
    CREATE FUNCTION append_to_stream(
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
      tx xid8,
      recorded_at timestamptz     -- 'appended': the time of every event of this append
    ) LANGUAGE plpgsql AS $$
    DECLARE
      v_count integer := cardinality(p_event_ids);
      v_current bigint;
      v_last_at timestamptz;
      v_at timestamptz;
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

      SELECT s.version, s.updated_at INTO v_current, v_last_at FROM streams s WHERE s.stream_id = p_stream_id;

      IF (SELECT count(DISTINCT u.id) FROM unnest(p_event_ids) AS u(id)) <> v_count THEN
        RETURN QUERY SELECT 'duplicate_event'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8, NULL::timestamptz;
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
          RETURN QUERY SELECT 'idempotent'::text, v_first + v_count - 1, NULL::bigint, NULL::bigint, NULL::xid8, NULL::timestamptz;
        ELSE
          RETURN QUERY SELECT 'duplicate_event'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8, NULL::timestamptz;
        END IF;
        RETURN;
      END IF;

      IF (p_expected_kind = 'exact' AND coalesce(v_current, 0) <> p_expected_version)
         OR (p_expected_kind = 'no_stream' AND v_current IS NOT NULL)
         OR (p_expected_kind = 'stream_exists' AND v_current IS NULL) THEN
        RETURN QUERY SELECT 'wrong_version'::text, v_current, NULL::bigint, NULL::bigint, NULL::xid8, NULL::timestamptz;
        RETURN;
      END IF;

      v_at := greatest(clock_timestamp(), v_last_at);
      v_base := coalesce(v_current, 0);
      INSERT INTO streams AS s (stream_id, version, created_at, updated_at) VALUES (p_stream_id, v_base + v_count, v_at, v_at)
        ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_count, updated_at = v_at
        WHERE s.version = v_base;
      IF NOT FOUND THEN
        -- Unreachable while every writer goes through this function (the advisory lock
        -- serialises them); kept so the database, not the caller, has the last word.
        RETURN QUERY SELECT 'wrong_version'::text, (SELECT s.version FROM streams s WHERE s.stream_id = p_stream_id), NULL::bigint, NULL::bigint, NULL::xid8, NULL::timestamptz;
        RETURN;
      END IF;

      -- An event id can still arrive from a concurrent append to another stream, after the
      -- check above (the stream lock does not cover it). Waiting on that writer and then
      -- skipping, instead of a bare unique violation, lets us raise an error that says which
      -- constraint and which stream version; the raise undoes this append's writes.
      WITH inserted AS (
        INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
        SELECT p_stream_id, v_base + e.ord, e.event_id, e.type, e.schema_version, e.data, e.metadata, v_at
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

      RETURN QUERY SELECT 'appended'::text, v_base + v_count, v_first_position, v_last_position, pg_current_xact_id(), v_at;
    END $$`.execute(db);
  await restorePrivileges(db, grants);
}

/** The function's owner and ACL (null: the defaults, EXECUTE for PUBLIC and the owner). */
interface Grants {
  owner: string;
  acl: string[] | null;
  entries: { grantee: string; grantable: boolean }[];
}

async function privilegesOf(db: Kysely<any>): Promise<Grants> {
  const { rows } = await sql<{ owner: string; acl: string[] | null }>`
    SELECT quote_ident(proowner::regrole::text) AS owner, proacl::text[] AS acl FROM pg_proc WHERE oid = 'append_to_stream'::regproc`.execute(db);
  const entries = await sql<{ grantee: string; grantable: boolean }>`
    SELECT CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(a.grantee::regrole::text) END AS grantee, a.is_grantable AS grantable
      FROM pg_proc p, aclexplode(p.proacl) a
     WHERE p.oid = 'append_to_stream'::regproc AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner`.execute(db);
  return { owner: rows[0].owner, acl: rows[0].acl, entries: entries.rows };
}

/** The old function's owner, and what a deployment granted or revoked on it, on the new one. */
async function restorePrivileges(db: Kysely<any>, grants: Grants): Promise<void> {
  const fn = sql.raw('FUNCTION append_to_stream(text, text, bigint, uuid[], text[], integer[], jsonb[], jsonb[])');
  await sql`ALTER ${fn} OWNER TO ${sql.raw(grants.owner)}`.execute(db);
  if (grants.acl === null) return;
  await sql`REVOKE ALL ON ${fn} FROM PUBLIC`.execute(db);
  for (const { grantee, grantable } of grants.entries) {
    await sql`GRANT EXECUTE ON ${fn} TO ${sql.raw(grantee)}${sql.raw(grantable ? ' WITH GRANT OPTION' : '')}`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  // Back to the 0006 definition, whose time is the transaction's now(); privileges carried over likewise.
  const grants = await privilegesOf(db);
  await sql`DROP FUNCTION append_to_stream(text, text, bigint, uuid[], text[], integer[], jsonb[], jsonb[])`.execute(db);
  await appendWithTransactionTime(db);
  await restorePrivileges(db, grants);
  await sql`DROP TABLE event_clock`.execute(db);
}
