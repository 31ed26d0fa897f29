import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Shared commits: `append_to_streams` runs several independent appends in one statement, so one
 * transaction and one WAL flush carry them all (the event store gathers the appends that arrive
 * while one is in flight). Each append is `append_to_stream` itself (its current definition is in
 * migration 0009), called once per append in the order given, so the rules of an append are
 * written once; each gets its own outcome row, and a wrong version or a known event id fails only
 * its own append. Anything raised (a concurrent duplicate event id, a deadlock, a timeout) undoes
 * the whole statement: nothing of it is committed, and the caller may run the appends again alone.
 *
 * Every stream lock is taken first, in one fixed order (the hash order the repository's
 * multi-stream commits use), before any write: the transaction takes its id at its first write,
 * and an id taken while waiting for a later stream's lock would put that stream's next version
 * before the lock holder's in the feed's transaction-id order. Within one call an append sees the
 * ones before it (two appends to one stream are versions N+1 and N+2, or the second's version
 * check fails).
 *
 * p_counts[i] is the number of events of append i; the event arrays hold every append's events
 * one append after the other.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION append_to_streams(
      p_stream_ids text[],
      p_expected_kinds text[],
      p_expected_versions bigint[],
      p_counts integer[],
      p_event_ids uuid[],
      p_types text[],
      p_schema_versions integer[],
      p_data jsonb[],
      p_metadata jsonb[]
    ) RETURNS TABLE (
      item integer,               -- 1-based, the append's place in the arrays
      outcome text,
      actual_version bigint,
      first_position bigint,
      last_position bigint,
      tx xid8,
      recorded_at timestamptz
    ) LANGUAGE plpgsql AS $$
    DECLARE
      v_appends integer := cardinality(p_stream_ids);
      v_events integer := cardinality(p_event_ids);
      v_from integer := 1;
      v_to integer;
    BEGIN
      IF v_appends IS NULL OR v_appends = 0
         OR cardinality(p_expected_kinds) IS DISTINCT FROM v_appends
         OR cardinality(p_expected_versions) IS DISTINCT FROM v_appends
         OR cardinality(p_counts) IS DISTINCT FROM v_appends
         OR (SELECT sum(c) FROM unnest(p_counts) AS c) IS DISTINCT FROM v_events::bigint
         OR cardinality(p_types) IS DISTINCT FROM v_events
         OR cardinality(p_schema_versions) IS DISTINCT FROM v_events
         OR cardinality(p_data) IS DISTINCT FROM v_events
         OR cardinality(p_metadata) IS DISTINCT FROM v_events THEN
        RAISE EXCEPTION 'append_to_streams needs one stream, kind, version and count per append and that many events'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;

      PERFORM pg_advisory_xact_lock(l.h)
         FROM (SELECT DISTINCT hashtextextended(s, 0) AS h FROM unnest(p_stream_ids) AS s ORDER BY 1) AS l;

      FOR i IN 1 .. v_appends LOOP
        v_to := v_from + p_counts[i] - 1;
        RETURN QUERY SELECT i, a.* FROM append_to_stream(
          p_stream_ids[i], p_expected_kinds[i], p_expected_versions[i],
          p_event_ids[v_from:v_to], p_types[v_from:v_to], p_schema_versions[v_from:v_to],
          p_data[v_from:v_to], p_metadata[v_from:v_to]) AS a;
        v_from := v_to + 1;
      END LOOP;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION append_to_streams(text[], text[], bigint[], integer[], uuid[], text[], integer[], jsonb[], jsonb[])`.execute(db);
}
