import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * commit_command: a whole command's write in one call, run as its own transaction. The command
 * read its state first (a snapshot at known stream versions, without locks) and decided in
 * TypeScript; this commits what it decided if, and only if, nothing it read has changed since:
 *
 *  1. every stream the decision rests on — written or only read (an owner whose status a
 *     subaccount's change depends on) — is locked, all together and in one fixed order (by the
 *     lock key), so two commands never wait on each other in a circle;
 *  2. each is checked against the version the decision read (0: it must not exist). A mismatch
 *     writes nothing and says which stream: the caller reads again and decides again;
 *  3. the events are appended to every stream, all stamped with `p_recorded_at`: the time the
 *     command's read gave it (never before the last event of a stream read at that version),
 *     so the rows and the answer the caller computed from it carry the stored time;
 *  4. the read-model rows the caller computed with its one TypeScript evolve are written,
 *     generically: a table, the columns that must match the stored row (its key and its version),
 *     and the new row as JSON (column: value), each expected to touch exactly one row;
 *  5. the idempotent answer is stored under its key.
 *
 * No domain rule and no row mapping is written here: only locks, versions, and where JSON goes.
 *
 * Why the locks come before any write (as in append_to_stream, migration 0001): the transaction
 * takes its id at its first write, so a waiter gets its id only after the holder has committed,
 * and per stream xid order = version order, which is what keeps the feed (read in xid order
 * under the pg_snapshot_xmin fence) in version order.
 *
 * Outcomes (nothing written unless 'committed'): 'wrong_version' (conflict_stream, conflict_version);
 * 'clock' (a stream's last event is later than p_recorded_at: read again); 'duplicate_event'
 * (an event id is stored already). After the writes have begun a conflict raises
 * serialization_failure (40001) so that nothing of the command stays: a row not at the version
 * the decision read, or a live answer already under the idempotency key. An event id committed
 * concurrently elsewhere raises unique_violation on events_event_id_key.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION commit_command(
      p_streams text[],            -- every stream the decision read or writes, each once
      p_expected bigint[],         -- the version each was read at; 0: it must not exist
      p_event_streams integer[],   -- for each event, its stream (index into p_streams, from 1)
      p_event_ids uuid[],
      p_types text[],
      p_schema_versions integer[],
      p_data jsonb[],
      p_metadata jsonb[],
      p_recorded_at timestamptz,   -- the time of every event of the command
      p_rows jsonb,                -- [{"table": t, "match": {column: value} | null, "row": {column: value} | null}]
      p_idempotency text[]         -- NULL, or {scope, key, request_hash, response, lifetime (an interval)}
    ) RETURNS TABLE (outcome text, conflict_stream text, conflict_version bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
      v_stream record;
      v_write record;
      v_count integer;
      v_columns text;
      v_match text;
      v_done integer;
    BEGIN
      IF cardinality(p_streams) IS DISTINCT FROM cardinality(p_expected)
         OR (SELECT count(DISTINCT s) FROM unnest(p_streams) s) <> cardinality(p_streams)
         OR EXISTS (SELECT 1 FROM unnest(p_event_streams) i WHERE i IS NULL OR i < 1 OR i > cardinality(p_streams)) THEN
        RAISE EXCEPTION 'commit_command: each stream once, with its expected version, and every event on one of them'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;

      PERFORM pg_advisory_xact_lock(k) FROM (
        SELECT hashtextextended(s, 0) AS k FROM unnest(p_streams) s ORDER BY 1
      ) ordered;

      -- Read after the locks: each statement of a VOLATILE function takes a fresh snapshot
      -- (READ COMMITTED), so this sees what the previous holder of a lock committed.
      FOR v_stream IN
        SELECT q.stream_id, q.expected, s.version, s.updated_at,
               (SELECT count(*) FROM unnest(p_event_streams) i WHERE i = q.n) AS events
          FROM unnest(p_streams, p_expected) WITH ORDINALITY AS q(stream_id, expected, n)
          LEFT JOIN streams s ON s.stream_id = q.stream_id
      LOOP
        IF coalesce(v_stream.version, 0) <> v_stream.expected THEN
          RETURN QUERY SELECT 'wrong_version'::text, v_stream.stream_id, v_stream.version;
          RETURN;
        END IF;
        IF v_stream.events > 0 AND v_stream.updated_at > p_recorded_at THEN
          RETURN QUERY SELECT 'clock'::text, v_stream.stream_id, v_stream.version;
          RETURN;
        END IF;
      END LOOP;

      IF EXISTS (SELECT 1 FROM events e WHERE e.event_id = ANY (p_event_ids))
         OR (SELECT count(DISTINCT u) FROM unnest(p_event_ids) u) <> coalesce(cardinality(p_event_ids), 0) THEN
        RETURN QUERY SELECT 'duplicate_event'::text, NULL::text, NULL::bigint;
        RETURN;
      END IF;

      FOR v_stream IN
        SELECT q.stream_id, q.expected, count(i.i)::integer AS events
          FROM unnest(p_streams, p_expected) WITH ORDINALITY AS q(stream_id, expected, n)
          JOIN unnest(p_event_streams) i ON i = q.n
         GROUP BY q.stream_id, q.expected, q.n
         ORDER BY q.n
      LOOP
        INSERT INTO streams AS s (stream_id, version, created_at, updated_at)
        VALUES (v_stream.stream_id, v_stream.expected + v_stream.events, p_recorded_at, p_recorded_at)
          ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_stream.events, updated_at = p_recorded_at
          WHERE s.version = v_stream.expected;
        IF NOT FOUND THEN
          -- Unreachable while every writer takes the stream's lock; the database keeps the last word.
          RAISE EXCEPTION 'commit_command: % moved under its lock', v_stream.stream_id
            USING ERRCODE = 'serialization_failure', DETAIL = json_build_object('conflict', 'stream')::text;
        END IF;
      END LOOP;

      -- In the order given, so global positions follow each stream's versions. A concurrent
      -- append of one of these ids to another stream raises unique_violation here.
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
      SELECT p_streams[e.s], p_expected[e.s] + row_number() OVER (PARTITION BY e.s ORDER BY e.n), e.id, e.type, e.schema_version, e.data, e.metadata, p_recorded_at
        FROM unnest(p_event_streams, p_event_ids, p_types, p_schema_versions, p_data, p_metadata)
             WITH ORDINALITY AS e(s, id, type, schema_version, data, metadata, n)
       ORDER BY e.n;

      FOR v_write IN SELECT * FROM jsonb_to_recordset(coalesce(p_rows, '[]')) AS w("table" text, match jsonb, "row" jsonb) LOOP
        IF v_write.match IS NOT NULL THEN
          SELECT string_agg(format('t.%1$I IS NOT DISTINCT FROM m.%1$I', c), ' AND ') INTO v_match FROM jsonb_object_keys(v_write.match) c;
        END IF;
        IF v_write.row IS NOT NULL THEN
          SELECT string_agg(format('%I', c), ', ') INTO v_columns FROM jsonb_object_keys(v_write.row) c;
        END IF;
        IF v_write.match IS NULL THEN
          EXECUTE format('INSERT INTO %1$I (%2$s) SELECT %2$s FROM jsonb_populate_record(NULL::%1$I, $1)', v_write.table, v_columns)
            USING v_write.row;
        ELSIF v_write.row IS NULL THEN
          EXECUTE format('DELETE FROM %1$I t USING jsonb_populate_record(NULL::%1$I, $1) m WHERE %2$s', v_write.table, v_match)
            USING v_write.match;
        ELSE
          EXECUTE format('UPDATE %1$I t SET (%2$s) = (SELECT %2$s FROM jsonb_populate_record(NULL::%1$I, $2)) '
                         'FROM jsonb_populate_record(NULL::%1$I, $1) m WHERE %3$s', v_write.table, v_columns, v_match)
            USING v_write.match, v_write.row;
        END IF;
        GET DIAGNOSTICS v_done = ROW_COUNT;
        IF v_done <> 1 THEN
          RAISE EXCEPTION 'commit_command: % rows of % matched %, where the decision read one', v_done, v_write.table, v_write.match
            USING ERRCODE = 'serialization_failure', DETAIL = json_build_object('conflict', 'row', 'table', v_write.table)::text;
        END IF;
      END LOOP;

      -- Last, and so under the stream locks: a second request under the key that got here first
      -- waits for this one's commit on the primary key, then finds its row live and gives way.
      IF p_idempotency IS NOT NULL THEN
        INSERT INTO idempotency_keys AS k (account_sid, key, request_hash, response)
        VALUES (p_idempotency[1], p_idempotency[2], p_idempotency[3], p_idempotency[4])
        ON CONFLICT (account_sid, key) DO UPDATE
           SET request_hash = excluded.request_hash, response = excluded.response, created_at = excluded.created_at
         WHERE k.created_at <= now() - p_idempotency[5]::interval;
        GET DIAGNOSTICS v_done = ROW_COUNT;
        IF v_done <> 1 THEN
          RAISE EXCEPTION 'commit_command: the idempotency key was used meanwhile'
            USING ERRCODE = 'serialization_failure', DETAIL = json_build_object('conflict', 'idempotency_key')::text;
        END IF;
      END IF;

      RETURN QUERY SELECT 'committed'::text, NULL::text, NULL::bigint;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS commit_command`.execute(db);
}
