import { Kysely, sql } from 'kysely';
import * as m0017 from './0017_commit_command';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * commit_command writes the read-model rows a command computed through a compiled writer per
 * table instead of one dynamic EXECUTE per row. A dynamic statement is parsed, analysed and
 * planned on every call; for a create (two account rows) that was about 60 % of commit_command's
 * time (measured on PostgreSQL 15, 1,000 creates in a loop: ~2.4 ms a call with EXECUTE, ~0.9 ms
 * with static statements, ~0.5 ms writing no rows). Static statements in a plpgsql function keep
 * their plans for the session.
 *
 * Still generic: no table is written by hand here. `command_row_tables` lists the tables commands
 * write; `install_command_row_write()` reads each one's columns, defaults and primary key from the
 * catalog and (re)creates `command_row_write(table, match, row)` with, per table, the same three
 * writes commit_command made before:
 *  - match null: INSERT the row; a column absent from the JSON takes its default (as an INSERT
 *    naming only the given columns did);
 *  - row null: DELETE the row that matches;
 *  - else: UPDATE the row that matches, setting the columns the JSON names (the others keep
 *    their values).
 * A match names the whole primary key (the writer finds the row by it) plus any other columns
 * that must hold (the version), compared with IS NOT DISTINCT FROM. A key that is not a column
 * is an error, as it was. It returns the number of rows written; commit_command requires one.
 *
 * A table joins with `INSERT INTO command_row_tables (table_name) VALUES (…)` and `SELECT
 * install_command_row_write()`; a migration that changes a listed table's columns runs the
 * install again. `command_row_tables.columns` records the columns each writer was compiled with,
 * and a spec compares them with the catalog, so a forgotten re-install fails the tests.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE command_row_tables (
      table_name text PRIMARY KEY,
      columns    text[] NOT NULL DEFAULT '{}'
    );`.execute(db);
  await sql`
    CREATE FUNCTION install_command_row_write() RETURNS void LANGUAGE plpgsql AS $gen$
    DECLARE
      t record;
      v_body text := '';
      v_cols text[];
      v_pk text[];
      v_list text;
      v_insert text;
      v_where text;
    BEGIN
      FOR t IN SELECT table_name, table_name::regclass AS rel FROM command_row_tables ORDER BY table_name LOOP
        SELECT array_agg(a.attname::text ORDER BY a.attnum),
               string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum),
               string_agg(CASE WHEN d.adbin IS NULL THEN format('r.%I', a.attname)
                               ELSE format('CASE WHEN p_row ? %L THEN r.%I ELSE %s END', a.attname, a.attname, pg_get_expr(d.adbin, d.adrelid)) END,
                          ', ' ORDER BY a.attnum),
               string_agg(format('(NOT p_match ? %L OR t.%I IS NOT DISTINCT FROM m.%I)', a.attname, a.attname, a.attname), ' AND ' ORDER BY a.attnum)
          INTO v_cols, v_list, v_insert, v_where
          FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
         WHERE a.attrelid = t.rel AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = '';
        SELECT array_agg(a.attname::text ORDER BY k.n) INTO v_pk
          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, n), pg_attribute a
         WHERE i.indrelid = t.rel AND i.indisprimary AND a.attrelid = t.rel AND a.attnum = k.attnum;
        IF v_pk IS NULL THEN
          RAISE EXCEPTION 'install_command_row_write: % has no primary key', t.table_name USING ERRCODE = 'invalid_table_definition';
        END IF;
        v_body := v_body || format($b$
      IF p_table = %1$L THEN
        IF EXISTS (SELECT 1 FROM jsonb_object_keys(coalesce(p_row, '{}') || coalesce(p_match, '{}')) c WHERE c <> ALL (%2$L::text[])) THEN
          RAISE EXCEPTION 'command_row_write: %% has no column named in %% or %%', p_table, p_row, p_match USING ERRCODE = 'undefined_column';
        END IF;
        IF p_match IS NULL THEN
          INSERT INTO %1$I (%3$s) SELECT %4$s FROM jsonb_populate_record(NULL::%1$I, p_row) r;
        ELSIF NOT p_match ?& %5$L::text[] THEN
          RAISE EXCEPTION 'command_row_write: a match on %% names its whole primary key', p_table USING ERRCODE = 'invalid_parameter_value';
        ELSIF p_row IS NULL THEN
          DELETE FROM %1$I t USING jsonb_populate_record(NULL::%1$I, p_match) m WHERE %6$s AND %7$s;
        ELSE
          UPDATE %1$I t SET (%3$s) = (SELECT %3$s FROM jsonb_populate_record(t, p_row) x)
            FROM jsonb_populate_record(NULL::%1$I, p_match) m WHERE %6$s AND %7$s;
        END IF;
        GET DIAGNOSTICS v_done = ROW_COUNT;
        RETURN v_done;
      END IF;$b$,
          t.table_name, v_cols, v_list, v_insert, v_pk,
          (SELECT string_agg(format('t.%1$I = m.%1$I', c), ' AND ') FROM unnest(v_pk) c), v_where);
        UPDATE command_row_tables SET columns = v_cols WHERE table_name = t.table_name;
      END LOOP;
      EXECUTE format($f$
    CREATE OR REPLACE FUNCTION command_row_write(p_table text, p_match jsonb, p_row jsonb) RETURNS integer
    LANGUAGE plpgsql AS %L$f$,
        'DECLARE v_done integer; BEGIN' || v_body || $e$
      RAISE EXCEPTION 'command_row_write: % is not a table commands write (command_row_tables)', p_table USING ERRCODE = 'invalid_parameter_value';
    END$e$);
    END $gen$;`.execute(db);
  await sql`INSERT INTO command_row_tables (table_name) VALUES ('account_read_model'), ('api_keys')`.execute(db);
  await sql`SELECT install_command_row_write()`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION commit_command(
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

      -- Each row through its table's compiled writer (command_row_write, below): static
      -- statements whose plans the session keeps, where a dynamic EXECUTE per row was parsed
      -- and planned on every call (60 % of this function's time for a create).
      FOR v_write IN SELECT * FROM jsonb_to_recordset(coalesce(p_rows, '[]')) AS w("table" text, match jsonb, "row" jsonb) LOOP
        v_done := command_row_write(v_write.table, v_write.match, v_write.row);
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
  // commit_command as migration 0017 defined it.
  await m0017.down(db);
  await m0017.up(db);
  await sql`DROP FUNCTION IF EXISTS command_row_write(text, jsonb, jsonb)`.execute(db);
  await sql`DROP FUNCTION IF EXISTS install_command_row_write()`.execute(db);
  await sql`DROP TABLE IF EXISTS command_row_tables`.execute(db);
}
