import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * Shared command commits: `commit_commands` commits several independent commands in one
 * statement, so one transaction and one WAL flush carry them all (CommandTransaction gathers the
 * commits that arrive while one is in flight, as the event store does for appends with
 * append_to_streams, migration 0018). Each command is `commit_command` itself (its current
 * definition is in migration 0019), called once per command in the order given, so a command's
 * rules are written once; each gets its own outcome row, and a wrong version, a clock step back
 * or a known event id fails only its own command (commit_command reports those before it writes
 * anything). Anything raised (a row or idempotency-key conflict, a concurrent duplicate event id,
 * a deadlock, a timeout) undoes the whole statement: nothing of it is committed, and the caller
 * commits each command again alone.
 *
 * Every stream lock of every command is taken first, in the one fixed order all writers use,
 * before any write (commit_command takes them again, which a session holding them gets at once):
 * the transaction takes its id at its first write, so no id is taken while waiting for a lock,
 * and a batch cannot deadlock with another writer that also locks in that order. Within one call
 * a command sees the ones before it (a second command on a stream the first moved gets
 * `wrong_version`, and is decided again).
 *
 * The arrays hold every command's part one command after the other: p_stream_counts[i] streams
 * and p_event_counts[i] events of command i; p_event_streams indexes the command's own streams
 * (from 1); p_rows[i] is its row writes (a JSON array) and p_idempotency[i] its answer (NULL or a
 * JSON array of commit_command's five texts).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION commit_commands(
      p_stream_counts integer[],
      p_streams text[],
      p_expected bigint[],
      p_event_counts integer[],
      p_event_streams integer[],
      p_event_ids uuid[],
      p_types text[],
      p_schema_versions integer[],
      p_data jsonb[],
      p_metadata jsonb[],
      p_recorded_at timestamptz[],
      p_rows jsonb[],
      p_idempotency jsonb[]
    ) RETURNS TABLE (item integer, outcome text, conflict_stream text, conflict_version bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
      n integer := coalesce(cardinality(p_stream_counts), 0);
      s0 integer := 0;   -- streams of the commands before this one
      e0 integer := 0;   -- events of the commands before this one
      s1 integer;
      e1 integer;
      i integer;
    BEGIN
      IF coalesce(cardinality(p_event_counts), 0) <> n OR coalesce(cardinality(p_recorded_at), 0) <> n
         OR coalesce(cardinality(p_rows), 0) <> n OR coalesce(cardinality(p_idempotency), 0) <> n
         OR (SELECT coalesce(sum(c), 0) FROM unnest(p_stream_counts) c) <> coalesce(cardinality(p_streams), 0)
         OR (SELECT coalesce(sum(c), 0) FROM unnest(p_event_counts) c) <> coalesce(cardinality(p_event_ids), 0)
         OR EXISTS (SELECT 1 FROM unnest(p_stream_counts) c WHERE c IS NULL OR c < 0)
         OR EXISTS (SELECT 1 FROM unnest(p_event_counts) c WHERE c IS NULL OR c < 0) THEN
        RAISE EXCEPTION 'commit_commands: a count per command, and as many streams and events as they add up to'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;

      PERFORM pg_advisory_xact_lock(k) FROM (
        SELECT DISTINCT hashtextextended(s, 0) AS k FROM unnest(p_streams) s ORDER BY 1
      ) ordered;

      FOR i IN 1..n LOOP
        s1 := s0 + p_stream_counts[i];
        e1 := e0 + p_event_counts[i];
        RETURN QUERY SELECT i, c.outcome, c.conflict_stream, c.conflict_version
          FROM commit_command(
            p_streams[s0 + 1:s1], p_expected[s0 + 1:s1],
            coalesce(p_event_streams[e0 + 1:e1], '{}'), coalesce(p_event_ids[e0 + 1:e1], '{}'),
            coalesce(p_types[e0 + 1:e1], '{}'), coalesce(p_schema_versions[e0 + 1:e1], '{}'),
            coalesce(p_data[e0 + 1:e1], '{}'), coalesce(p_metadata[e0 + 1:e1], '{}'),
            p_recorded_at[i], p_rows[i],
            CASE WHEN p_idempotency[i] IS NULL OR p_idempotency[i] = 'null' THEN NULL
                 ELSE ARRAY(SELECT jsonb_array_elements_text(p_idempotency[i])) END) c;
        s0 := s1;
        e0 := e1;
      END LOOP;
    END $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION IF EXISTS commit_commands(integer[], text[], bigint[], integer[], integer[], uuid[], text[], integer[], jsonb[], jsonb[], timestamptz[], jsonb[], jsonb[])`.execute(db);
}
