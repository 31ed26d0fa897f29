import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import {
  call,
  cliJson,
  createMainViaCli,
  describeOutcome,
  isOk,
  newEncryptionKey,
  Processes,
  sleep,
  waitForZeroLag,
  waitUntil,
  type Credentials,
  type OpsProcess,
  type Outcome,
} from './ops.helpers';

const PROJECTIONS = ['accounts', 'owner-cascade', 'audit', 'ledger'];
const AUDITED_TYPES = ['MainAccountCreated', 'SubaccountCreated', 'AccountRenamed', 'AccountStatusChanged', 'AccountUpgraded'];
/** The leader dies once the load has run this long and this many requests have been answered… */
const KILL_AFTER_MS = 1_500;
const KILL_AFTER_REQUESTS = 30;
/** …and the load goes on this long after the kill; never longer than the cap, nor more iterations per worker than this. */
const LOAD_AFTER_KILL_MS = 4_000;
const LOAD_CAP_MS = 20_000;
const MAX_ITERATIONS_PER_WORKER = 150;
const WORKERS_PER_API_AND_MAIN = 2;
const FAILOVER_LIMIT_MS = 5_000;

const leadingIn = (output: string): string[] => [...output.matchAll(/"msg":"leading projection ([\w-]+)"/g)].map((m) => m[1]);

/**
 * Two `--role api` and two `--role projector` processes on one database, as deployed behind a
 * load balancer. The projector that leads is SIGKILLed in the middle of the load: the other must
 * take over every projection within seconds, and in the end each projection must have applied
 * every event exactly once (audit rows = audited events, checkpoints at the newest event), the
 * read model must agree with the log, and rebuilding both projections must change nothing.
 */
describe('two API processes and two projector processes on one database', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  const processes = new Processes();

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-ops-'));
    env = { DATABASE_URL: database.url, ENCRYPTION_KEY: newEncryptionKey(), DATA_DIR: dataDir };
  });

  afterAll(async () => {
    await processes.stopAll();
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('survives losing the leading projector mid-load: failover within 5 s, nothing lost, nothing twice', async () => {
    const mains = await Promise.all([createMainViaCli('ops main 1', env), createMainViaCli('ops main 2', env)]);
    const [projectorA, projectorB, apiA, apiB] = await Promise.all([
      processes.start('projector-a', ['--role', 'projector'], { ...env, LOG_LEVEL: 'info' }),
      processes.start('projector-b', ['--role', 'projector'], { ...env, LOG_LEVEL: 'info' }),
      processes.start('api-a', ['--role', 'api'], env),
      processes.start('api-b', ['--role', 'api'], env),
    ]);
    const projectors = [projectorA, projectorB];
    // Every projection has a leader before the load starts.
    await waitUntil('every projection has a leader', () => PROJECTIONS.every((p) => projectors.some((x) => leadingIn(x.output()).includes(p))), {
      timeoutMs: 10_000,
    });
    for (const p of PROJECTIONS) expect(projectors.filter((x) => leadingIn(x.output()).includes(p))).toHaveLength(1);

    // The load: each worker creates a subaccount through one API process, renames it through the
    // other, and every fifth time suspends and reactivates it. Every answer is recorded.
    const outcomes: { op: string; outcome: Outcome }[] = [];
    const expected = { created: 0, renamed: 0, statusChanged: 0 };
    const started = Date.now();
    let deadline = started + LOAD_CAP_MS;
    const worker = async (main: Credentials, apis: OpsProcess[], w: number) => {
      const [first, second] = apis;
      for (let i = 0; i < MAX_ITERATIONS_PER_WORKER && Date.now() < deadline; i++) {
        const created = await call(first.url, '/2010-04-01/Accounts.json', { as: main, form: { FriendlyName: `w${w}-${i}` } });
        outcomes.push({ op: 'create', outcome: created });
        if (!isOk(created) || created.kind !== 'response') return;
        expected.created++;
        const sid = created.json.sid as string;
        const renamed = await call(second.url, `/2010-04-01/Accounts/${sid}.json`, { as: main, form: { FriendlyName: `w${w}-${i}-renamed` } });
        outcomes.push({ op: 'rename', outcome: renamed });
        if (!isOk(renamed)) return;
        expected.renamed++;
        if (i % 5 === 0) {
          for (const Status of ['suspended', 'active']) {
            const changed = await call(i % 2 ? first.url : second.url, `/2010-04-01/Accounts/${sid}.json`, { as: main, form: { Status } });
            outcomes.push({ op: `status ${Status}`, outcome: changed });
            if (!isOk(changed)) return;
            expected.statusChanged++;
          }
        }
      }
    };
    const workers: Promise<void>[] = [];
    let w = 0;
    for (const main of mains) {
      for (const apis of [[apiA, apiB], [apiB, apiA]]) {
        for (let k = 0; k < WORKERS_PER_API_AND_MAIN; k++) workers.push(worker(main, apis, w++));
      }
    }

    let killedAt = 0;
    let failoverMs = 0;
    let survivor: OpsProcess | undefined;
    try {
      // Mid-load: SIGKILL the projector that leads the most projections (with a fresh start, one leads all).
      await sleep(KILL_AFTER_MS);
      await waitUntil(`${KILL_AFTER_REQUESTS} requests answered`, () => outcomes.length >= KILL_AFTER_REQUESTS, { timeoutMs: 10_000 });
      const [victim, other] = [...projectors].sort((a, b) => leadingIn(b.output()).length - leadingIn(a.output()).length);
      survivor = other;
      const victimLed = leadingIn(victim.output());
      expect(victimLed.length).toBeGreaterThan(0);
      const survivorOutputAtKill = other.output().length;
      killedAt = Date.now();
      deadline = Math.min(deadline, killedAt + LOAD_AFTER_KILL_MS);
      expect(await victim.stop('SIGKILL')).toBeNull();
      failoverMs = await waitUntil(
        `${other.name} leads every projection`,
        () => PROJECTIONS.every((p) => leadingIn(other.output()).includes(p)),
        { timeoutMs: FAILOVER_LIMIT_MS - (Date.now() - killedAt), intervalMs: 20, detail: () => `it logged leading: ${leadingIn(other.output()).join(', ')}` },
      );
      // The ones the victim held were taken over after the kill, not before.
      for (const p of victimLed) expect(leadingIn(other.output().slice(survivorOutputAtKill))).toContain(p);
      expect(Date.now() - killedAt).toBeLessThanOrEqual(FAILOVER_LIMIT_MS);
    } finally {
      // Whatever happened above, the load ends now or at its planned end, before anything else.
      if (!killedAt) deadline = 0;
      await Promise.allSettled(workers);
    }
    const loadMs = Date.now() - started;
    const failed = outcomes.filter((o) => !isOk(o.outcome));
    expect(failed.map((o) => `${o.op}: ${describeOutcome(o.outcome)}`)).toEqual([]);
    // The load really went on around the kill.
    expect(outcomes.filter((o) => o.outcome.endedAt < killedAt).length).toBeGreaterThanOrEqual(KILL_AFTER_REQUESTS);
    expect(outcomes.filter((o) => o.outcome.startedAt > killedAt).length).toBeGreaterThanOrEqual(KILL_AFTER_REQUESTS);

    // Caught up, as the operator sees it.
    const status = await waitForZeroLag(env, 30_000);
    expect(status.map((s) => s.name).sort()).toEqual([...PROJECTIONS].sort());

    // No acknowledged write lost, none written twice: the log holds exactly what was acknowledged.
    const typeCounts = Object.fromEntries(
      (
        await sql<{ type: string; n: number }>`SELECT type, count(*)::int AS n FROM events WHERE type = ANY(${AUDITED_TYPES}) GROUP BY type`.execute(
          database.db,
        )
      ).rows.map((r) => [r.type, r.n]),
    );
    expect(typeCounts).toEqual({
      MainAccountCreated: mains.length,
      SubaccountCreated: expected.created,
      AccountRenamed: expected.renamed,
      AccountStatusChanged: expected.statusChanged,
    });

    // Every projection's checkpoint is at the newest event of the feed.
    const newest = (
      await sql<{ transaction_id: string; global_position: number }>`
        SELECT e.transaction_id::text AS transaction_id, e.global_position FROM events e
         ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1`.execute(database.db)
    ).rows[0];
    const checkpoints = async () =>
      (
        await sql<{ name: string; transaction_id: string; global_position: number }>`
          SELECT name, transaction_id::text AS transaction_id, global_position FROM projection_checkpoints ORDER BY name`.execute(database.db)
      ).rows;
    expect(await checkpoints()).toEqual(
      [...PROJECTIONS].sort().map((name) => ({ name, transaction_id: newest.transaction_id, global_position: newest.global_position })),
    );
    for (const s of status) expect(s.checkpoint).toEqual({ transaction_id: newest.transaction_id, global_position: newest.global_position });

    // The audit history: exactly one row per audited event.
    const audit = (
      await sql<{ audited: number; rows: number; distinct_events: number; missing: number; extra: number }>`
        SELECT (SELECT count(*)::int FROM events WHERE type = ANY(${AUDITED_TYPES})) AS audited,
               (SELECT count(*)::int FROM audit_history) AS rows,
               (SELECT count(DISTINCT event_id)::int FROM audit_history) AS distinct_events,
               (SELECT count(*)::int FROM events e WHERE e.type = ANY(${AUDITED_TYPES})
                  AND NOT EXISTS (SELECT 1 FROM audit_history a WHERE a.event_id = e.event_id)) AS missing,
               (SELECT count(*)::int FROM audit_history a
                  WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = a.event_id AND e.type = ANY(${AUDITED_TYPES}))) AS extra`.execute(database.db)
    ).rows[0];
    expect({ ...audit, rows: audit.rows - audit.audited, distinct_events: audit.distinct_events - audit.audited }).toEqual({
      audited: audit.audited,
      rows: 0, // audit rows minus audited events
      distinct_events: 0, // distinct event ids minus audited events: no duplicates
      missing: 0,
      extra: 0,
    });
    expect(audit.audited).toBe(mains.length + expected.created + expected.renamed + expected.statusChanged);

    // The read model agrees with the log.
    expect(await cliJson(['verify'], env)).toMatchObject({ ok: true, drift: [] });

    // Rebuilding both projections from zero gives the very same tables.
    const tables = async () => ({
      accounts: (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(database.db)).rows,
      audit: (await sql`SELECT * FROM audit_history ORDER BY sid`.execute(database.db)).rows,
    });
    const before = await tables();
    expect(before.accounts).toHaveLength(mains.length + expected.created);
    expect(before.audit).toHaveLength(audit.rows);
    expect(await cliJson(['projections', 'rebuild', 'audit'], env)).toMatchObject({ projection: 'audit' });
    expect(await cliJson(['projections', 'rebuild', 'accounts'], env)).toMatchObject({ projection: 'accounts' });
    const after = await tables();
    expect(after.accounts).toEqual(before.accounts);
    expect(after.audit).toEqual(before.audit);
    expect(await checkpoints()).toEqual(
      [...PROJECTIONS].sort().map((name) => ({ name, transaction_id: newest.transaction_id, global_position: newest.global_position })),
    );

    // The processes left standing are healthy and stop cleanly.
    for (const p of [survivor!, apiA, apiB]) expect(p.child.exitCode).toBeNull();
    process.stdout.write(
      `[ops] multi-process: ${outcomes.length} requests in ${loadMs} ms of load; failover after ${failoverMs} ms; whole test ${Date.now() - started} ms; ` +
        `${expected.created} created, ${expected.renamed} renamed, ${expected.statusChanged} status changes\n`,
    );
  }, 120_000);
});
