import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

export async function up(db: Kysely<any>): Promise<void> {
  // The event log's trigger refuses UPDATE, DELETE and TRUNCATE, but a table's owner (and a
  // superuser) may disable a trigger, so the trigger alone stops mistakes, not a determined
  // caller. The second line is privileges: no role but the owner may ever change or remove an
  // event. PostgreSQL grants PUBLIC nothing on a new table; revoking says so explicitly and undoes
  // a GRANT ... TO PUBLIC made by hand.
  //
  // A deployment should therefore run migrations as the owner and connect the service and the
  // CLI as a separate role that does not own the tables, granted only what the application uses:
  // SELECT and INSERT on events, SELECT, INSERT and UPDATE on streams, EXECUTE on
  // append_to_stream, and read-write access to the projection and idempotency tables. Such a role
  // can append to the log and nothing else, and cannot disable the trigger either (test/reliability
  // proves both).
  await sql`REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC`.execute(db);
}

export async function down(_db: Kysely<any>): Promise<void> {
  // Nothing to restore: no migration ever granted these to PUBLIC, and granting them back would
  // open the log.
}
