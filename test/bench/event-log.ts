import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { runCli, type CommandResult } from './bench-processes';

/** Per generated main account: its subaccounts and how often each is renamed. */
const SUBACCOUNTS_PER_MAIN = 50;
const RENAMES_PER_SUBACCOUNT = 2;
/** 1 MainAccountCreated + per subaccount: SubaccountCreated, the owner's SubaccountAdded, the renames. */
export const EVENTS_PER_MAIN = 1 + SUBACCOUNTS_PER_MAIN * (2 + RENAMES_PER_SUBACCOUNT);
const MAINS_PER_BATCH = 100;

/**
 * One statement appends a batch of valid account histories to the public log, as the service
 * would have written them (one transaction, so one transaction id per batch): per main account,
 * its creation, then for each subaccount SubaccountCreated followed by the owner's
 * SubaccountAdded, then the renames. Versions are consecutive per stream and `streams` is kept
 * in step; data and metadata have the shapes (and sizes) the commands write. Sealed tokens are
 * placeholders: nothing decrypts them.
 */
const GENERATE_BATCH = `
  WITH mains AS (
    SELECT m, 'AC' || md5($1 || '-m-' || m) AS sid FROM generate_series(1, $2::int) AS m
  ), subs AS (
    SELECT mains.m, k, mains.sid AS owner, 'AC' || md5($1 || '-s-' || mains.m || '-' || k) AS sid
      FROM mains, generate_series(1, ${SUBACCOUNTS_PER_MAIN}) AS k
  ), log AS (
    SELECT m, 0 AS phase, 0 AS r, 0 AS k, sid AS account, 1 AS version, 'MainAccountCreated' AS type,
           jsonb_build_object('sid', sid, 'friendlyName', 'bench main ' || m, 'type', 'Full', 'authToken', 'v1.' || md5(sid) || md5(sid || 't')) AS data,
           sid AS actor
      FROM mains
    UNION ALL
    SELECT m, 1, 0, 2 * k, sid, 1, 'SubaccountCreated',
           jsonb_build_object('sid', sid, 'ownerAccountSid', owner, 'friendlyName', 'bench sub ' || k, 'type', 'Full', 'authToken', 'v1.' || md5(sid) || md5(sid || 't')),
           owner
      FROM subs
    UNION ALL
    SELECT m, 1, 0, 2 * k + 1, owner, k + 1, 'SubaccountAdded', jsonb_build_object('subaccountSid', sid), owner
      FROM subs
    UNION ALL
    SELECT m, 2, r, k, sid, r + 1, 'AccountRenamed',
           jsonb_build_object('previous', CASE WHEN r = 1 THEN 'bench sub ' || k ELSE 'renamed ' || (r - 1) || ' ' || k END, 'friendlyName', 'renamed ' || r || ' ' || k),
           owner
      FROM subs, generate_series(1, ${RENAMES_PER_SUBACCOUNT}) AS r
  ), inserted AS (
    INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
    SELECT 'account-' || account, version, gen_random_uuid(), type, 1, data,
           jsonb_build_object('correlationId', gen_random_uuid(), 'actorType', 'account', 'actorSid', actor, 'source', 'api',
                              'sourceIp', '127.0.0.1', 'userAgent', 'accountable-bench', 'requestId', 'RQ' || md5(random()::text))
      FROM log
     ORDER BY m, phase, r, k
    RETURNING stream_id, stream_version
  )
  INSERT INTO streams (stream_id, version)
  SELECT stream_id, max(stream_version) FROM inserted GROUP BY stream_id`;

export async function countEvents(pool: pg.Pool): Promise<number> {
  return Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n);
}

/** Grows the public log to at least `target` events. Returns how many it added. */
export async function generateAccountLog(pool: pg.Pool, target: number, log: (m: string) => void): Promise<number> {
  const started = Date.now();
  let total = await countEvents(pool);
  const before = total;
  const deadline = Date.now() + 60 * 60_000;
  while (total < target && Date.now() < deadline) {
    const mains = Math.max(1, Math.min(MAINS_PER_BATCH, Math.ceil((target - total) / EVENTS_PER_MAIN)));
    await pool.query(GENERATE_BATCH, [randomBytes(8).toString('hex'), mains]);
    total += mains * EVENTS_PER_MAIN;
  }
  await pool.query('ANALYZE events');
  await pool.query('ANALYZE streams');
  log(`  log: ${before} → ${total} events (+${total - before} in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return total - before;
}

export interface RebuildResult {
  projection: string;
  events: number;
  /** As the CLI reports it: events applied over the rebuild's own time, switch included. */
  eventsPerSecond: number;
  seconds: number;
  /** Process start to exit (Node start-up, migrations check, Nest). */
  wallSeconds: number;
  peakRssMb: number | null;
}

/**
 * Events per rebuild batch (`--batch-size`), kept at 3000 so that runs compare with earlier ones.
 * No longer a limit: both projections bind one array per column, whatever the batch size (the
 * multi-row VALUES they used to send met PostgreSQL's 65,535 parameters above ~3,600 audited
 * events). Both rebuilds load the log in SQL and use batches only for what arrives
 * meanwhile, or for a log their SQL load cannot take.
 */
export const REBUILD_BATCH_SIZE = 3000;

/** `projections rebuild NAME --json` in its own process, its peak RSS measured. */
export async function rebuildProjection(name: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<RebuildResult> {
  const args = ['projections', 'rebuild', name, '--batch-size', String(REBUILD_BATCH_SIZE), '--json'];
  const result: CommandResult = await runCli(args, env, { measure: true, timeoutMs: 60 * 60_000, nodeArgs });
  if (result.code !== 0) throw new Error(`rebuild ${name} failed (${result.code}): ${result.stderr.slice(-2000)}`);
  const out = JSON.parse(result.stdout) as { events: number; seconds: number; events_per_second: number };
  return {
    projection: name,
    events: out.events,
    eventsPerSecond: out.events_per_second,
    seconds: out.seconds,
    wallSeconds: result.seconds,
    peakRssMb: result.peakRssMb,
  };
}

/**
 * The owner cascade has no tables to rebuild and nothing to do for generated logs (no upgrade or
 * suspension in them): move its checkpoint to the head, so that a service started afterwards
 * does not spend the measurement reading millions of events it would skip.
 */
export async function skipCascadeToHead(pool: pg.Pool): Promise<void> {
  await pool.query(`
    INSERT INTO projection_checkpoints (name, transaction_id, global_position)
    SELECT 'owner-cascade', transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1
    ON CONFLICT (name) DO UPDATE SET transaction_id = excluded.transaction_id, global_position = excluded.global_position, updated_at = now()`);
}

export interface LedgerVerifyResult {
  events: number;
  ok: boolean;
  /** As the CLI reports it: events recomputed over its own time. */
  eventsPerSecond: number;
  seconds: number;
  wallSeconds: number;
  peakRssMb: number | null;
}

/** `ledger verify --json` in its own process, its peak RSS measured (memory must not grow with the log). */
export async function verifyLedgerRun(env: Record<string, string>, nodeArgs: string[] = []): Promise<LedgerVerifyResult> {
  const result: CommandResult = await runCli(['ledger', 'verify', '--json'], env, { measure: true, timeoutMs: 60 * 60_000, nodeArgs });
  if (result.code !== 0) throw new Error(`ledger verify failed (${result.code}): ${result.stderr.slice(-2000)}${result.stdout.slice(-2000)}`);
  const out = JSON.parse(result.stdout) as { ok: boolean; events: number; seconds: number; events_per_second: number };
  return { events: out.events, ok: out.ok, eventsPerSecond: out.events_per_second, seconds: out.seconds, wallSeconds: result.seconds, peakRssMb: result.peakRssMb };
}
