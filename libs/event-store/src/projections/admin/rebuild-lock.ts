import { sql, type Kysely } from 'kysely';
import { ADVISORY_LOCK_CLASS, type Database } from '@accountable/database';

const REBUILD_LOCK_CLASS = ADVISORY_LOCK_CLASS.projectionRebuild;

/** Another rebuild of the same projection holds its lock, in this process or any other. */
export class RebuildInProgressError extends Error {
  override readonly name = 'RebuildInProgressError';
}

/**
 * One rebuild per projection at a time, across processes: a session advisory lock, held by the
 * connection that also runs the rebuild's switch, from before the rebuild creates anything until
 * after it has dropped what it made. PostgreSQL releases it when that session ends, so a rebuild
 * that crashed never keeps it; the next one then clears what the dead one left (`dropLeftovers`).
 * Refuses at once rather than waiting: an operator who started a second rebuild wants to know.
 */
export async function takeRebuildLock(session: Kysely<Database>, projection: string): Promise<void> {
  const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_lock(${REBUILD_LOCK_CLASS}, hashtext(${projection})) AS locked`.execute(session);
  if (rows[0].locked) return;
  const holders = await sql<{ pid: number; application_name: string | null; client: string | null; backend_start: Date | null }>`
    SELECT l.pid, nullif(a.application_name, '') AS application_name, host(a.client_addr) AS client, a.backend_start
      FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.classid = ${REBUILD_LOCK_CLASS}::int4::oid AND l.objid = hashtext(${projection})::oid`.execute(session);
  const holder = holders.rows[0];
  const who = holder
    ? ` (PostgreSQL session ${holder.pid}${holder.application_name ? ` of ${holder.application_name}` : ''}${holder.client ? ` from ${holder.client}` : ''}` +
      `${holder.backend_start ? `, connected ${holder.backend_start.toISOString()}` : ''})`
    : '';
  throw new RebuildInProgressError(
    `a rebuild of projection ${JSON.stringify(projection)} is already running${who}; nothing was changed: run it again once that one has finished`,
  );
}

export async function releaseRebuildLock(session: Kysely<Database>, projection: string): Promise<void> {
  await sql`SELECT pg_advisory_unlock(${REBUILD_LOCK_CLASS}, hashtext(${projection}))`.execute(session);
}
