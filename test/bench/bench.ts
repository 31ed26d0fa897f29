import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { createKysely, createPool } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import { API_MAIN, type ServiceProcess } from '../support/processes';
import { checkNoStreamSemantics, prepareAppendSchema, runAppendLoad, APPEND_SCHEMA, type AppendResults } from './append-load';
import { openBenchDatabase, type BenchDatabase } from './bench-database';
import { BASELINE_MAIN, runCli, startProcess } from './bench-processes';
import { closedLoop } from './closed-loop';
import { countEvents, generateAccountLog, rebuildProjection, skipCascadeToHead, verifyLedgerRun, type LedgerVerifyResult, type RebuildResult } from './event-log';
import { basic, ProjectionLagProbe, runHttp, type HttpRequestSpec, type HttpResult, type LagResult } from './http-load';
import { measureLedgerCost, PROJECTION_NAMES, type LedgerCost } from './ledger-cost';
import { measureStreams, type StreamsResult } from './streams-delivery';
import { formatMetrics, formatTargets, targets, type Metrics } from './report';
import { WaitSampler } from './wait-sampler';
import { measureCpu, type CpuShare } from './cpu-meter';

/**
 * `npm run bench [-- --quick] [-- --out FILE] [-- --profile DIR]`: see README "Performance".
 * Everything runs on this machine against 127.0.0.1; every loop is bounded in time and count.
 */
interface Plan {
  quick: boolean;
  appendSeconds: number;
  appendRounds: number;
  writers: number;
  httpSeconds: number;
  warmupSeconds: number;
  connections: number;
  mains: number;
  logEvents: number;
  /** Log sizes at which append and GET latency are measured again (full run only). */
  scalePoints: number[];
  /** Account events in the Event Streams NATS backlog. */
  natsEvents: number;
}

const QUICK: Omit<Plan, 'quick'> = {
  appendSeconds: 8,
  appendRounds: 2,
  writers: 16,
  httpSeconds: 10,
  warmupSeconds: 2,
  connections: 32,
  // At least one per connection: each request in flight goes to a different owner, whose stream
  // lock serialises creates under it.
  mains: 32,
  logEvents: 200_000,
  scalePoints: [],
  natsEvents: 3000,
};
const FULL: Omit<Plan, 'quick'> = {
  appendSeconds: 20,
  appendRounds: 3,
  writers: 16,
  httpSeconds: 30,
  warmupSeconds: 3,
  connections: 32,
  mains: 48,
  logEvents: 1_000_000,
  scalePoints: [1_000_000, 10_000_000],
  natsEvents: 10_000,
};
/** A Full main account's subaccount limit is 1000; stay below it. */
const CREATES_PER_MAIN = 950;

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

const PHASES = ['append', 'http', 'ledger', 'streams', 'baseline', 'rebuild'] as const;
type Phase = (typeof PHASES)[number];

interface Args {
  quick: boolean;
  out?: string;
  profile?: string;
  only: Set<Phase>;
  logEvents?: number;
  scale?: number[];
  /** The streams phase's webhook sinks batch their events (batch_events true). */
  batchEvents: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--out FILE] [--profile DIR] [--only ${PHASES.join(',')}] [--log-events N] [--scale N,N] [--batch-events]\n`;

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: new Set(PHASES), batchEvents: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--profile') args.profile = argv[++i];
    else if (a === '--only') {
      const phases = (argv[++i] ?? '').split(',');
      if (!phases.every((p): p is Phase => (PHASES as readonly string[]).includes(p))) usage(`--only takes phases among ${PHASES.join(', ')}`);
      args.only = new Set(phases as Phase[]);
    } else if (a === '--log-events') args.logEvents = positive(argv[++i]);
    else if (a === '--scale') args.scale = (argv[++i] ?? '').split(',').map(positive);
    else if (a === '--batch-events') args.batchEvents = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else usage(`unknown argument ${a}`);
  }
  if ((argv.includes('--out') && !args.out) || (argv.includes('--profile') && !args.profile)) usage('--out and --profile need a path');
  return args;
}

function positive(value: string | undefined): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) usage(`expected a positive integer, not ${value}`);
  return n;
}

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}`);
  process.exit(2);
}

interface Main {
  sid: string;
  token: string;
}

async function createMains(count: number, env: Record<string, string>): Promise<Main[]> {
  const mains: Main[] = [];
  const one = async (i: number) => {
    const result = await runCli(['create-main', '--friendly-name', `bench main ${i}`, '--type', 'Full', '--json'], env, { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`create-main failed: ${result.stderr}`);
    const account = JSON.parse(result.stdout) as { sid: string; auth_token: string };
    mains.push({ sid: account.sid, token: account.auth_token });
  };
  // Two at a time: one per core.
  for (let i = 0; i < count; i += 2) await Promise.all([one(i), ...(i + 1 < count ? [one(i + 1)] : [])]);
  return mains;
}

/** Waits (bounded) until every projection's checkpoint (of those `names`) has reached the newest event. */
async function waitForProjections(db: BenchDatabase, timeoutMs = 120_000, names: readonly string[] = PROJECTION_NAMES): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.pool.query<{ name: string }>(
      `SELECT n AS name FROM unnest($1::text[]) AS n
         CROSS JOIN (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS head
         LEFT JOIN projection_checkpoints c ON c.name = n
        WHERE c.name IS NULL OR (c.transaction_id, c.global_position) < (head.transaction_id, head.global_position)`,
      [names],
    );
    if (rows.length === 0) return;
    if (Date.now() > deadline) throw new Error(`projections still behind: ${rows.map((r) => r.name).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startService(env: Record<string, string>, profileDir?: string): Promise<{ service: ServiceProcess; url: string; startedAt: number }> {
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const startedAt = Date.now();
  const service = startProcess(API_MAIN, env, nodeArgs);
  const [, url] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { service, url, startedAt };
}

interface ScalePoint {
  events: number;
  append_p50_ms: number;
  append_p99_ms: number;
  get_p50_ms: number;
  get_p99_ms: number;
  rebuild?: RebuildResult[];
}

/**
 * Requests one after the other on one keep-alive connection, timed here (autocannon's histogram
 * counts whole milliseconds): latency without queueing.
 */
async function oneConnection(url: string, spec: HttpRequestSpec, options: { seconds: number; maxRequests: number }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    return await closedLoop({ concurrency: 1, seconds: options.seconds, maxOperations: options.maxRequests }, (_w, i) => {
      const { path, headers, body } = spec.build(i);
      return new Promise<void>((resolve, reject) => {
        const request = httpRequest(`${url}${path}`, { method: spec.method, agent, headers }, (response) => {
          response.resume();
          response.on('end', () => (response.statusCode! < 300 ? resolve() : reject(new Error(`${spec.method} ${path}: ${response.statusCode}`))));
        });
        request.on('error', reject);
        request.end(body);
      });
    });
  } finally {
    agent.destroy();
  }
}

/** Latency at one log size: sequential appends (one writer) and GETs (one connection). */
async function measureLatencyAt(db: BenchDatabase, url: string, pairs: GetPair[], seconds: number): Promise<Omit<ScalePoint, 'rebuild'>> {
  const pool = createPool(db.url, { max: 1, applicationName: 'bench-scale' });
  const store = new EventStore(createKysely(pool));
  const appends = await closedLoop({ concurrency: 1, seconds, maxOperations: 5000 }, async () => {
    await store.append(`bench-scale-${randomUUID()}`, [{ type: 'BenchEvent', data: { n: 1 }, metadata: {} }], 'no_stream');
  });
  await pool.end();
  const gets = await oneConnection(url, getSpec(pairs), { seconds, maxRequests: 200_000 });
  if (gets.errors) log(`  ${gets.errors} GETs failed, first: ${gets.firstError}`);
  return {
    events: await countEvents(db.pool),
    append_p50_ms: appends.p50Ms,
    append_p99_ms: appends.p99Ms,
    get_p50_ms: gets.p50Ms,
    get_p99_ms: gets.p99Ms,
  };
}

interface GetPair {
  main: Main;
  sid: string;
}

/** Subaccounts of the bench's main accounts, with the credentials to GET them. */
async function subaccountPairs(db: BenchDatabase, mains: Main[]): Promise<GetPair[]> {
  const bySid = new Map(mains.map((m) => [m.sid, m]));
  const { rows } = await db.pool.query<{ sid: string; owner: string }>(
    'SELECT sid, owner_account_sid AS owner FROM account_read_model WHERE NOT is_main AND owner_account_sid = ANY($1) ORDER BY random() LIMIT 5000',
    [[...bySid.keys()]],
  );
  return rows.map((s) => ({ main: bySid.get(s.owner)!, sid: s.sid }));
}

function getSpec(pairs: GetPair[]) {
  return {
    method: 'GET' as const,
    build: (n: number) => {
      const pair = pairs[n % pairs.length];
      return { path: `/2010-04-01/Accounts/${pair.sid}.json`, headers: { authorization: basic(pair.main.sid, pair.main.token) } };
    },
  };
}

function createSpec(mains: Main[], path: string) {
  return {
    method: 'POST' as const,
    build: (n: number) => {
      const main = mains[n % mains.length];
      return {
        path,
        headers: { authorization: basic(main.sid, main.token), 'content-type': 'application/x-www-form-urlencoded' },
        body: `FriendlyName=bench+sub+${n}`,
      };
    },
  };
}

interface ObservedHttp extends HttpResult {
  /** Where the database sessions of the process under load waited (share of samples). */
  waits: Record<string, number>;
  /** Statements (pg_stat_statements) or else transactions (pg_stat_database) per successful request. */
  dbStatementsPerRequest?: number;
  dbTransactionsPerRequest?: number;
  /** CPU in cores during the load: the machine, the process under load, the load generator. */
  cpu: CpuShare | null;
  /** When the load ran (ms since the epoch). */
  from: number;
  to: number;
  /** The statements that took most server time, per request (pg_stat_statements only). */
  topStatements?: { query: string; perRequest: number; meanMs: number; shareOfTime: number }[];
}

/** The bench's own monitoring queries, left out of the counts. */
const OWN_QUERY = /pg_stat_activity|pg_stat_database|pg_stat_statements|statement_timestamp\(\)/;

/**
 * Runs one HTTP load while sampling the wait events of `application`'s sessions and counting the
 * statements (pg_stat_statements, when loaded) or transactions the load cost the database.
 */
async function observe(
  db: BenchDatabase,
  server: { application: string; pid: number },
  run: () => Promise<HttpResult>,
  probe?: ProjectionLagProbe,
): Promise<ObservedHttp> {
  // Statistics reach the shared counters up to a second after a session's last statement.
  const settle = () => new Promise((r) => setTimeout(r, 1200));
  const transactions = async () =>
    Number((await db.pool.query<{ n: string }>('SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0].n);
  await settle();
  if (db.statementStats) await db.pool.query('SELECT pg_stat_statements_reset()');
  const before = await transactions();
  const polls = probe?.polls ?? 0;
  const sampler = new WaitSampler(db.pool, [server.application]);
  sampler.start();
  const from = Date.now();
  const cpu = measureCpu(server.pid, os.cpus().length, db.postmasterPid);
  const result = await run();
  const cores = cpu();
  const to = Date.now();
  const waits = sampler.stop();
  await settle();
  const observed: ObservedHttp = { ...result, waits, cpu: cores, from, to };
  const requests = Math.max(result.ok, 1);
  if (db.statementStats) {
    const { rows } = await db.pool.query<{ query: string; calls: string; total: number }>(
      `SELECT query, calls, total_exec_time AS total FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    const mine = rows.filter((r) => !OWN_QUERY.test(r.query));
    const time = mine.reduce((a, r) => a + r.total, 0) || 1;
    observed.dbStatementsPerRequest = mine.reduce((a, r) => a + Number(r.calls), 0) / requests;
    observed.topStatements = mine
      .sort((a, b) => b.total - a.total)
      .slice(0, 8)
      .map((r) => ({
        query: r.query.replace(/\s+/g, ' ').slice(0, 140),
        perRequest: Math.round((Number(r.calls) / requests) * 100) / 100,
        meanMs: Math.round((r.total / Number(r.calls)) * 1000) / 1000,
        shareOfTime: Math.round((r.total / time) * 1000) / 1000,
      }));
  } else {
    // Less the bench's own: the first count, the wait samples and the lag probe's polls.
    const own = 1 + sampler.sampleCount + (probe ? probe.polls - polls : 0);
    observed.dbTransactionsPerRequest = (await transactions() - before - own) / requests;
  }
  return observed;
}

/** CPU time per successful request of one process (group), from the load's CPU split. */
function cpuMsPerRequest(r: ObservedHttp | undefined, who: 'server' | 'database'): number {
  const cores = r?.cpu?.[who];
  return r && cores !== null && cores !== undefined && r.perSecond > 0 ? (cores * 1000) / r.perSecond : NaN;
}

function dbCost(r: ObservedHttp): string {
  const cost =
    r.dbStatementsPerRequest !== undefined
      ? `${r.dbStatementsPerRequest.toFixed(1)} statements/request`
      : `${r.dbTransactionsPerRequest!.toFixed(1)} transactions/request`;
  const perRequest = (who: 'server' | 'database') => (Number.isFinite(cpuMsPerRequest(r, who)) ? cpuMsPerRequest(r, who).toFixed(2) : '?');
  const cpu = r.cpu
    ? `; CPU cores: machine ${r.cpu.machine}/${r.cpu.cores} = server ${r.cpu.server} + PostgreSQL ${r.cpu.database ?? '?'} + load generator ${r.cpu.bench} + interrupts ${r.cpu.interrupts} + steal ${r.cpu.steal} + other processes ${r.cpu.other ?? '?'}; CPU ms per request: server ${perRequest('server')}, PostgreSQL ${perRequest('database')}`
    : '';
  return cost + cpu;
}

function topWaits(waits: Record<string, number> | undefined): string {
  return Object.entries(waits ?? {})
    .slice(0, 3)
    .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`)
    .join(', ');
}

function describeHttp(name: string, r: HttpResult): string {
  const problems = r.non2xx || r.errors ? `  (${r.non2xx} non-2xx, ${r.errors} errors)` : '';
  return `  ${name.padEnd(16)} ${r.perSecond.toFixed(0).padStart(6)}/s  p50 ${r.p50Ms} ms  p99 ${r.p99Ms} ms  ${r.ok} ok in ${r.seconds.toFixed(1)} s${problems}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan: Plan = { quick: args.quick, ...(args.quick ? QUICK : FULL) };
  if (args.logEvents) plan.logEvents = args.logEvents;
  if (args.scale) plan.scalePoints = args.scale;
  const started = Date.now();
  const loadAtStart = os.loadavg()[0];
  log(`${plan.quick ? 'quick' : 'full'} run (load average ${loadAtStart.toFixed(2)} on ${os.cpus().length} CPUs)`);
  if (args.profile) await mkdir(args.profile, { recursive: true });

  const db = await openBenchDatabase(log);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-bench-app-'));
  const env = {
    DATABASE_URL: db.url,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    // Request logging off: we measure the service, not a log pipe into this process.
    LOG_LEVEL: 'warn',
  };

  let appends: AppendResults | undefined;
  let semantics: Record<string, boolean> | undefined;
  const http: Partial<Record<'create' | 'get' | 'baselineInsert' | 'baselineGet', ObservedHttp>> = {};
  let lag: LagResult | undefined;
  let lagAtRest: LagResult | undefined;
  let createAtRest: { p50Ms: number; p99Ms: number; operations: number } | undefined;
  const rebuilds: RebuildResult[] = [];
  let ledgerRebuild: RebuildResult | undefined;
  let ledgerVerify: LedgerVerifyResult | undefined;
  let ledgerCost: LedgerCost | undefined;
  let streams: StreamsResult | undefined;
  const scale: ScalePoint[] = [];
  let logEvents = 0;
  let running: ServiceProcess | undefined;
  /** A service a phase starts itself: remembered, so that a failure stops it (finally, below). */
  const startTracked = async (serviceEnv: Record<string, string>) => {
    const started = await startService(serviceEnv);
    running = started.service;
    return started;
  };
  try {
    // 1. Appends: ours, Emmett and a plain INSERT, same load, same database.
    await prepareAppendSchema(db.url, db.pool);
    if (args.only.has('append')) {
      log(`append: ${plan.writers} writers, ${plan.appendRounds} rounds of ${plan.appendSeconds} s each`);
      semantics = await checkNoStreamSemantics(db.url);
      appends = await runAppendLoad(db.url, { concurrency: plan.writers, seconds: plan.appendSeconds, rounds: plan.appendRounds, log, monitor: db.pool });
    }

    // 2. The service, in its own process.
    let mains: Main[] = [];
    let pairs: GetPair[] = [];
    // Shared by every create load: the main accounts' subaccount limit counts them all.
    const createCounter = { n: 0 };
    if (args.only.has('http') || args.only.has('ledger') || args.only.has('streams') || plan.scalePoints.length) {
      log(`http: creating ${plan.mains} Full main accounts with the CLI`);
      mains = await createMains(plan.mains, env);
    }
    if (args.only.has('http')) {
      const service = await startService(env, args.profile);
      running = service.service;
      await waitForProjections(db);
      const counter = createCounter;
      const createCap = plan.mains * CREATES_PER_MAIN;
      const creates = createSpec(mains, '/2010-04-01/Accounts.json');
      await runHttp(service.url, creates, { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: Math.floor(createCap / 10), counter });
      await waitForProjections(db);
      const probe = new ProjectionLagProbe(db.pool, db.commitTimestamps);
      await probe.start();
      const serviceProcess = { application: 'accountable', pid: service.service.pid };
      http.create = await observe(db, serviceProcess, () =>
        runHttp(service.url, creates, { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: createCap - counter.n, counter }),
        probe,
      );
      lag = await probe.stop();
      log(describeHttp('create', http.create) + `  db: ${topWaits(http.create.waits)}, ${dbCost(http.create)}`);
      log(`  projection lag  p50 ${lag.p50Ms.toFixed(1)} ms  p99 ${lag.p99Ms.toFixed(1)} ms  max ${lag.maxMs.toFixed(1)} ms  (${lag.samples} creations, from ${lag.from}, ${lag.unseen} unseen)`);
      await waitForProjections(db);
      // The same, one create at a time: the lag the design has without load.
      const restProbe = new ProjectionLagProbe(db.pool, db.commitTimestamps);
      await restProbe.start();
      const oneByOne = await oneConnection(service.url, creates, { seconds: 5, maxRequests: Math.min(100, createCap - counter.n) });
      lagAtRest = await restProbe.stop();
      log(`  one at a time   create p50 ${oneByOne.p50Ms.toFixed(1)} ms  p99 ${oneByOne.p99Ms.toFixed(1)} ms; lag p50 ${lagAtRest.p50Ms.toFixed(1)} ms  p99 ${lagAtRest.p99Ms.toFixed(1)} ms (${lagAtRest.samples} creations)`);
      createAtRest = { p50Ms: oneByOne.p50Ms, p99Ms: oneByOne.p99Ms, operations: oneByOne.operations };
      await waitForProjections(db);

      pairs = await subaccountPairs(db, mains);
      await runHttp(service.url, getSpec(pairs), { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: 1_000_000 });
      http.get = await observe(db, serviceProcess, () =>
        runHttp(service.url, getSpec(pairs), { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: 5_000_000 }),
      );
      log(describeHttp('get', http.get) + `  db: ${topWaits(http.get.waits)}, ${dbCost(http.get)}`);
      if (args.profile) {
        // Where each load sits in the service's profile (seconds from its start, roughly).
        const at = (t: number) => ((t - service.startedAt) / 1000).toFixed(0);
        log(`  profile windows: create ${at(http.create.from)} ${at(http.create.to)}, get ${at(http.get.from)} ${at(http.get.to)} (s after the service started)`);
      }
      if (plan.scalePoints.length) {
        const point = await measureLatencyAt(db, service.url, pairs, 10);
        scale.push(point);
        log(`  scale @ ${point.events} events: append p50 ${point.append_p50_ms.toFixed(1)} / p99 ${point.append_p99_ms.toFixed(1)} ms, get p50 ${point.get_p50_ms.toFixed(1)} / p99 ${point.get_p99_ms.toFixed(1)} ms`);
      }
      await service.service.stop();
      running = undefined;
    }

    // 2b. The ledger's cost: append and create loads with LEDGER=off and LEDGER=on, and its lag.
    if (args.only.has('ledger')) {
      log(`ledger: append and create loads with the ledger off and on, ${plan.quick ? 1 : 2} round(s)`);
      ledgerCost = await measureLedgerCost(
        { rounds: plan.quick ? 1 : 2, writers: plan.writers, appendSeconds: plan.appendSeconds, connections: plan.connections, httpSeconds: plan.httpSeconds, warmupSeconds: plan.warmupSeconds },
        {
          pool: db.pool,
          url: db.url,
          commitTimestamps: db.commitTimestamps,
          env,
          startService: startTracked,
          waitForProjections: (names) => waitForProjections(db, 120_000, names),
          creates: createSpec(mains, '/2010-04-01/Accounts.json'),
          counter: createCounter,
          createCap: plan.mains * CREATES_PER_MAIN,
          log,
        },
      );
      running = undefined;
      log(
        `  ledger on/off: append ${(ledgerCost.appendPerSecond.on / ledgerCost.appendPerSecond.off).toFixed(2)}×, create ${(ledgerCost.createPerSecond.on / ledgerCost.createPerSecond.off).toFixed(2)}×; ledger lag p99 ${ledgerCost.lagP99Ms.toFixed(1)} ms, caught up ${ledgerCost.catchUpMs} ms after the load`,
      );
    }

    // 2c. Event Streams: webhook delivery lag under the create load; NATS sink vs the bare client.
    if (args.only.has('streams')) {
      log(`streams: webhook delivery lag under the create load, then a NATS backlog of ${plan.natsEvents} events`);
      streams = await measureStreams(
        { connections: plan.connections, httpSeconds: plan.httpSeconds, warmupSeconds: plan.warmupSeconds, natsEvents: plan.natsEvents, batchEvents: args.batchEvents },
        {
          pool: db.pool,
          url: db.url,
          commitTimestamps: db.commitTimestamps,
          statementStats: db.statementStats,
          env,
          startService: startTracked,
          waitForProjections: (names, timeoutMs) => waitForProjections(db, timeoutMs ?? 120_000, names),
          mains,
          creates: createSpec(mains, '/2010-04-01/Accounts.json'),
          counter: createCounter,
          createCap: plan.mains * CREATES_PER_MAIN,
          createMain: async () => (await createMains(1, env))[0],
          natsUrl: process.env.NATS_URL ?? 'nats://127.0.0.1:4222',
          projections: PROJECTION_NAMES,
          log,
        },
      );
      running = undefined;
    }

    // 3. The floor: bare Fastify + pg, its own process, same load.
    if (args.only.has('baseline')) {
      const callers = mains.length ? mains : [{ sid: `AC${randomBytes(16).toString('hex')}`, token: randomBytes(16).toString('hex') }];
      await db.pool.query(`CREATE TABLE ${APPEND_SCHEMA}.baseline_accounts (LIKE public.account_read_model INCLUDING ALL)`);
      const baseline = startProcess(BASELINE_MAIN, { DATABASE_URL: db.url });
      running = baseline;
      const [, baselineUrl] = await baseline.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const inserts = createSpec(callers, '/accounts');
      await runHttp(baselineUrl, inserts, { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: 1_000_000 });
      const baselineProcess = { application: 'bench-baseline', pid: baseline.pid };
      http.baselineInsert = await observe(db, baselineProcess, () =>
        runHttp(baselineUrl, inserts, { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: 5_000_000 }),
      );
      log(describeHttp('bare insert', http.baselineInsert) + `  db: ${topWaits(http.baselineInsert.waits)}, ${dbCost(http.baselineInsert)}`);
      const { rows: baseRows } = await db.pool.query<{ sid: string }>(`SELECT sid FROM ${APPEND_SCHEMA}.baseline_accounts ORDER BY random() LIMIT 5000`);
      const caller = basic(callers[0].sid, callers[0].token);
      const baseGet = {
        method: 'GET' as const,
        build: (n: number) => ({ path: `/accounts/${baseRows[n % baseRows.length].sid}`, headers: { authorization: caller } }),
      };
      await runHttp(baselineUrl, baseGet, { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: 1_000_000 });
      http.baselineGet = await observe(db, baselineProcess, () =>
        runHttp(baselineUrl, baseGet, { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: 5_000_000 }),
      );
      log(describeHttp('bare get', http.baselineGet) + `  db: ${topWaits(http.baselineGet.waits)}, ${dbCost(http.baselineGet)}`);
      await baseline.stop();
      running = undefined;
    }

    // 4. Rebuild from a log of valid account events, each projection in its own CLI process.
    if (args.only.has('rebuild')) {
      log(`rebuild: generating a log of ${plan.logEvents} events`);
      await generateAccountLog(db.pool, plan.logEvents, log);
      logEvents = await countEvents(db.pool);
      const profile = args.profile ? ['--cpu-prof', `--cpu-prof-dir=${args.profile}`] : [];
      for (const name of ['accounts', 'audit']) {
        const result = await rebuildProjection(name, env, profile);
        rebuilds.push(result);
        log(`  rebuild ${name.padEnd(8)} ${result.events} events  ${result.eventsPerSecond}/s  ${result.seconds.toFixed(1)} s  peak RSS ${result.peakRssMb?.toFixed(0)} MB`);
      }
      // The ledger: its tree built by a rebuild (a generated log bypasses the projector), then the whole log verified.
      ledgerRebuild = await rebuildProjection('ledger', env, profile);
      log(`  rebuild ledger   ${ledgerRebuild.events} events  ${ledgerRebuild.eventsPerSecond}/s  ${ledgerRebuild.seconds.toFixed(1)} s  peak RSS ${ledgerRebuild.peakRssMb?.toFixed(0)} MB`);
      ledgerVerify = await verifyLedgerRun(env, profile);
      log(`  ledger verify    ${ledgerVerify.events} events  ${ledgerVerify.eventsPerSecond}/s  ${ledgerVerify.seconds.toFixed(1)} s  peak RSS ${ledgerVerify.peakRssMb?.toFixed(0)} MB`);
      await skipCascadeToHead(db.pool);
    }

    // 5. Full run: how latency grows with the log.
    for (const size of plan.scalePoints) {
      if (pairs.length === 0) pairs = await subaccountPairs(db, mains);
      if (pairs.length === 0) break;
      const point: Partial<ScalePoint> = {};
      if ((await countEvents(db.pool)) < size * 0.99) {
        await generateAccountLog(db.pool, size, log);
        point.rebuild = [];
        for (const name of ['accounts', 'audit', 'ledger']) point.rebuild.push(await rebuildProjection(name, env));
        log(`  rebuild at ${size}: ${point.rebuild.map((r) => `${r.projection} ${r.eventsPerSecond}/s, ${r.peakRssMb?.toFixed(0)} MB`).join('; ')}`);
        await skipCascadeToHead(db.pool);
      }
      const again = await startService(env);
      running = again.service;
      await waitForProjections(db);
      Object.assign(point, await measureLatencyAt(db, again.url, pairs, 10));
      await again.service.stop();
      running = undefined;
      scale.push(point as ScalePoint);
      log(`  scale @ ${point.events} events: append p50 ${point.append_p50_ms!.toFixed(1)} / p99 ${point.append_p99_ms!.toFixed(1)} ms, get p50 ${point.get_p50_ms!.toFixed(1)} / p99 ${point.get_p99_ms!.toFixed(1)} ms`);
    }
  } finally {
    await running?.stop().catch(() => undefined);
    await db.drop().catch((error: unknown) => log(`could not drop ${db.name}: ${(error as Error).message}`));
    await rm(dataDir, { recursive: true, force: true });
  }

  const slowest = rebuilds.length ? rebuilds.reduce((a, b) => (b.eventsPerSecond < a.eventsPerSecond ? b : a)) : undefined;
  const metrics: Metrics = {
    append_per_s: round(appends?.perSecond.ours ?? NaN),
    emmett_append_per_s: round(appends?.perSecond.emmett ?? NaN),
    raw_insert_per_s: round(appends?.perSecond.raw ?? NaN),
    http_create_per_s: round(http.create?.perSecond ?? NaN),
    http_create_p99_ms: http.create?.p99Ms ?? NaN,
    baseline_http_insert_per_s: round(http.baselineInsert?.perSecond ?? NaN),
    http_get_per_s: round(http.get?.perSecond ?? NaN),
    http_get_p99_ms: http.get?.p99Ms ?? NaN,
    baseline_http_get_per_s: round(http.baselineGet?.perSecond ?? NaN),
    projection_lag_p99_ms: round(lag?.p99Ms ?? NaN, 1),
    rebuild_events_per_s: slowest?.eventsPerSecond ?? NaN,
    rebuild_peak_rss_mb: round(rebuilds.length ? Math.max(...rebuilds.map((r) => r.peakRssMb ?? NaN)) : NaN, 1),
    ledger_rebuild_events_per_s: ledgerRebuild?.eventsPerSecond ?? NaN,
    ledger_verify_events_per_s: ledgerVerify?.eventsPerSecond ?? NaN,
    ledger_verify_peak_rss_mb: round(ledgerVerify?.peakRssMb ?? NaN, 1),
    statements_per_create: round(http.create?.dbStatementsPerRequest ?? NaN, 2),
    service_cpu_ms_per_create: round(cpuMsPerRequest(http.create, 'server'), 3),
    ledger_off_append_per_s: round(ledgerCost?.appendPerSecond.off ?? NaN),
    ledger_on_append_per_s: round(ledgerCost?.appendPerSecond.on ?? NaN),
    ledger_off_http_create_per_s: round(ledgerCost?.createPerSecond.off ?? NaN),
    ledger_on_http_create_per_s: round(ledgerCost?.createPerSecond.on ?? NaN),
    ledger_lag_p99_ms: round(ledgerCost?.lagP99Ms ?? NaN, 1),
    ledger_lag_max_ms: round(ledgerCost?.lagMaxMs ?? NaN, 1),
    ledger_catch_up_ms: round(ledgerCost?.catchUpMs ?? NaN),
    streams_webhook_lag_p50_ms: round(streams?.webhook?.p50Ms ?? NaN, 1),
    streams_webhook_lag_p99_ms: round(streams?.webhook?.p99Ms ?? NaN, 1),
    streams_webhook_lag_max_ms: round(streams?.webhook?.maxMs ?? NaN, 1),
    streams_webhook_events_per_s: round(streams?.webhook?.eventsPerSecond ?? NaN),
    streams_webhook_missing: streams?.webhook?.missing ?? NaN,
    streams_nats_events_per_s: round(streams?.nats?.sinkPerSecond ?? NaN),
    streams_nats_bare_client_events_per_s: round(streams?.nats?.barePerSecond ?? NaN),
    streams_nats_vs_bare: round((streams?.nats?.sinkPerSecond ?? NaN) / (streams?.nats?.barePerSecond ?? NaN), 2),
  };
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    model: cpus[0]?.model ?? 'unknown',
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    node: process.version,
    postgres: db.postgresVersion,
    date: new Date().toISOString(),
    /** Other work on the machine during the run skews every number: 1-minute load at start and end. */
    loadavg: [round(loadAtStart, 2), round(os.loadavg()[0], 2)],
  };
  const checks = targets(metrics);
  const details = {
    run: plan.quick ? 'quick' : 'full',
    seconds: Math.round((Date.now() - started) / 1000),
    server: db.server,
    server_settings: db.settings,
    plan,
    append: {
      no_stream_refused: semantics,
      rounds: appends?.rounds,
    },
    http,
    append_waits: appends?.waits,
    projection_lag: lag,
    one_at_a_time: { create: createAtRest, projection_lag: lagAtRest },
    rebuild: { log_events: logEvents, projections: rebuilds },
    ledger: { rebuild: ledgerRebuild, verify: ledgerVerify, cost: ledgerCost },
    streams,
    scale,
  };

  const report = [
    '',
    `## ${plan.quick ? 'Quick' : 'Full'} run, ${machine.date.slice(0, 10)}`,
    '',
    `${machine.cpus} × ${machine.model}, ${machine.memory}, Node ${machine.node}, ${machine.postgres.split(' on ')[0]} (${db.server}; fsync=${db.settings.fsync}, synchronous_commit=${db.settings.synchronous_commit}); load average ${machine.loadavg.join(' → ')}`,
    '',
    formatMetrics(metrics),
    '',
    formatTargets(checks),
    '',
  ];
  if (scale.length) {
    report.push('| events in the log | append p50 / p99 (ms, 1 writer) | GET p50 / p99 (ms, 1 connection) |', '|---:|---:|---:|');
    for (const p of scale) report.push(`| ${p.events.toLocaleString('en-US')} | ${p.append_p50_ms.toFixed(1)} / ${p.append_p99_ms.toFixed(1)} | ${p.get_p50_ms.toFixed(1)} / ${p.get_p99_ms.toFixed(1)} |`);
    report.push('');
  }
  process.stdout.write(report.join('\n'));
  if (args.out) {
    await writeFile(args.out, JSON.stringify({ machine, metrics, targets: checks, details }, null, 2) + '\n');
    log(`wrote ${args.out}`);
  }
  log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

main().catch((error) => {
  process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
