import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ADVISORY_LOCK_KEY } from './advisory-locks';

/** The role the embedded default serves as: the service, the projector and the CLI but `migrate` and `projections rebuild`. */
export const APP_ROLE = 'accountable_app';

const READ_WRITE = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const;

/**
 * Everything the application role is granted, and nothing else: it can append to the log but
 * never change or remove an event, and owns nothing, so it cannot switch the log's trigger off.
 * The README's "Deploying" paragraph lists the same grants for a deployment with DATABASE_URL.
 * A new table must appear here or in NOT_GRANTED (test/database/app-role.int.spec.ts checks).
 */
export const APP_ROLE_GRANTS = {
  tables: {
    events: ['SELECT', 'INSERT'],
    streams: ['SELECT', 'INSERT', 'UPDATE'],
    account_read_model: READ_WRITE,
    api_keys: READ_WRITE,
    event_sinks: READ_WRITE,
    event_subscriptions: READ_WRITE,
    event_subscribed_types: READ_WRITE,
    audit_history: READ_WRITE,
    projection_checkpoints: READ_WRITE,
    projection_parked_events: READ_WRITE,
    idempotency_keys: READ_WRITE,
    // The ledger's tree is a read model (DELETE: a reset); its signed heads are only ever added.
    ledger_leaves: ['SELECT', 'INSERT', 'DELETE'],
    ledger_heads: ['SELECT', 'INSERT'],
    kysely_migration: ['SELECT'],
    kysely_migration_lock: ['SELECT'],
  } as Record<string, readonly string[]>,
  functions: ['append_to_stream', 'append_to_streams', 'commit_command', 'commit_commands', 'command_row_write', 'feed_fence', 'feed_reader_application_names'] as readonly string[],
};

/** Tables of the schema the role is granted nothing on, with the reason. */
export const NOT_GRANTED: Record<string, string> = {
  event_clock: 'readable by PUBLIC (migration 0009) for verify; nothing writes it after its migration',
  command_row_tables: 'read by install_command_row_write() when a migration compiles the row writers (migration 0019), never by the service',
};

/** Serialises concurrent start-ups: two GRANTs on one object at once fail with "tuple concurrently updated". */
const GRANT_LOCK_KEY = ADVISORY_LOCK_KEY.roleGrants;

/**
 * Makes `role` a login role that is no superuser, owns nothing, belongs to no other role and holds
 * exactly APP_ROLE_GRANTS in this database (beyond what PUBLIC holds). Idempotent, and run as the
 * owner at every start of the embedded default, after the migrations: data directories made
 * before this role existed get it, a new migration's table gets its grants, and a privilege
 * granted to the role by hand is taken back. Privileges are only rewritten when they differ.
 *
 * The password goes to the server as a SCRAM verifier, never in clear, so no statement text
 * (pg_stat_activity, a logged error) holds it.
 */
export async function ensureAppRole(db: Kysely<any>, role: { name: string; password: string }): Promise<void> {
  const name = sql.id(role.name);
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${GRANT_LOCK_KEY}::bigint)`.execute(trx);
    const exists = (await sql`SELECT 1 FROM pg_roles WHERE rolname = ${role.name}`.execute(trx)).rows.length > 0;
    const attributes = sql`LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD ${sql.lit(scramVerifier(role.password))}`;
    await (exists ? sql`ALTER ROLE ${name} ${attributes}` : sql`CREATE ROLE ${name} ${attributes}`).execute(trx);
    const { rows: memberships } = await sql<{ granted: string }>`
      SELECT m.roleid::regrole::text AS granted FROM pg_auth_members m WHERE m.member = ${role.name}::regrole`.execute(trx);
    for (const { granted } of memberships) await sql`REVOKE ${sql.raw(granted)} FROM ${name}`.execute(trx);
    if (sameGrants(await grantsOf(trx, role.name), expectedGrants())) return;
    await sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${name}`.execute(trx);
    await sql`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${name}`.execute(trx);
    await sql`REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM ${name}`.execute(trx);
    await sql`REVOKE ALL ON SCHEMA public FROM ${name}`.execute(trx);
    for (const [table, privileges] of Object.entries(APP_ROLE_GRANTS.tables)) {
      await sql`GRANT ${sql.raw(privileges.join(', '))} ON TABLE ${sql.id('public', table)} TO ${name}`.execute(trx);
    }
    for (const fn of APP_ROLE_GRANTS.functions) await sql`GRANT EXECUTE ON FUNCTION ${sql.id('public', fn)} TO ${name}`.execute(trx);
  });
}

/** The role's own privileges in this database's `public` schema, as `kind name privilege` lines. */
export async function grantsOf(db: Kysely<any>, role: string): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    SELECT format('table %s %s', c.relname, a.privilege_type) AS line
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a
     WHERE n.nspname = 'public' AND a.grantee = ${role}::regrole
    UNION ALL
    SELECT format('column %s.%s %s', c.relname, att.attname, a.privilege_type)
      FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           CROSS JOIN LATERAL aclexplode(att.attacl) a
     WHERE n.nspname = 'public' AND a.grantee = ${role}::regrole
    UNION ALL
    SELECT format('function %s %s', p.proname, a.privilege_type)
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace CROSS JOIN LATERAL aclexplode(p.proacl) a
     WHERE n.nspname = 'public' AND a.grantee = ${role}::regrole
    UNION ALL
    SELECT format('schema public %s', a.privilege_type)
      FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a
     WHERE n.nspname = 'public' AND a.grantee = ${role}::regrole`.execute(db);
  return rows.map((r) => r.line).sort();
}

/** APP_ROLE_GRANTS in the form `grantsOf` answers. */
export function expectedGrants(): string[] {
  return [
    ...Object.entries(APP_ROLE_GRANTS.tables).flatMap(([table, privileges]) => privileges.map((p) => `table ${table} ${p}`)),
    ...APP_ROLE_GRANTS.functions.map((fn) => `function ${fn} EXECUTE`),
  ].sort();
}

const sameGrants = (a: string[], b: string[]) => a.length === b.length && a.every((line, i) => line === b[i]);

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, as PostgreSQL stores it (RFC 5802, 7677). */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
