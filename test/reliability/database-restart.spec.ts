import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedOptions, type EmbeddedPostgres } from '@accountable/database';
import { runCli, startService, type ServiceProcess } from '../support/processes';
import { freePort } from './support/embedded';
import { describeOutcome, isTwilioError, send, sleep, waitUntil, type Credentials, type Outcome } from './support/http';
import { byProfile, random, SEED } from './support/profile';
import { recordResult } from './support/results';

const OUTAGES = byProfile({ ci: 1, full: 3 });
const DOWN_MS = byProfile({ ci: 1_500, full: 3_000 });
const CLIENTS = 8;
const RECOVERY_LIMIT_MS = 5_000;
/** While the database is away an answer (503) must still come promptly. */
const ANSWER_LIMIT_MS = 3_000;

interface Call {
  kind: 'rename' | 'list' | 'events';
  key?: string;
  name?: string;
  sid?: string;
  outcome: Outcome;
  startedAt: number;
  endedAt: number;
}

/**
 * The database restarts under a running service. test/ops/database-outage.e2e.spec.ts proves
 * this for a steady, sequential stream of creates and reads; here the load is a burst of concurrent
 * clients doing keyed renames (retried with the same Idempotency-Key after a 503 until answered),
 * account lists and audit reads. While the server is down every answer is a prompt 503 in Twilio's
 * envelope (code 20503); within 5 s of its return writes and reads succeed again in the same
 * process; every acknowledged rename is in the log exactly once, and the audit catches up with all.
 */
describe('database restart mid-load', () => {
  let dataDir: string;
  let serviceDir: string;
  let options: EmbeddedOptions;
  const servers: EmbeddedPostgres[] = [];
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-restart-'));
    serviceDir = await mkdtemp(path.join(tmpdir(), 'accountable-restart-service-'));
    options = { dataDir, port: await freePort(), settings: { fsync: 'off', full_page_writes: 'off' } };
  });
  afterAll(async () => {
    if (service) {
      const kill = setTimeout(() => service!.child.kill('SIGKILL'), 15_000);
      await service.stop('SIGTERM');
      clearTimeout(kill);
    }
    for (const server of servers) await server.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (serviceDir) await rm(serviceDir, { recursive: true, force: true });
  });

  it(`${OUTAGES} restart(s) of ${DOWN_MS} ms under ${CLIENTS} clients: 503 20503 while down, back within 5 s, no acknowledged write lost`, async () => {
    const rand = random(SEED);
    const figures = { restarts: 0, 'ms down each': DOWN_MS, clients: CLIENTS, requests: 0, 'answered 503 while down': 0, 'acknowledged renames': 0, 'slowest recovery (ms)': 0 };
    let held = '';
    let running = true;
    let clients: Promise<void> | undefined;
    const calls: Call[] = [];
    try {
      let server = await startEmbeddedPostgres(options);
      servers.push(server);
      const env = { DATABASE_URL: server.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), DATA_DIR: serviceDir };
      const created = await runCli(['create-main', '--friendly-name', 'restart main', '--type', 'Full', '--json'], env);
      expect(created.code).toBe(0);
      const { sid, auth_token: authToken } = JSON.parse(created.stdout);
      const main: Credentials = { sid, authToken };
      service = startService({ ...env, PROJECTION_POLL_MS: '100' });
      const [, baseUrl] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const subs: string[] = [];
      for (let i = 0; i < 10; i++) {
        const o = await send(baseUrl, '/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: `sub-${i}` } });
        expect(describeOutcome(o)).toMatch(/^201 /);
        subs.push((o as any).json.sid);
      }

      let counter = 0;
      const record = (call: Omit<Call, 'endedAt'>) => {
        calls.push({ ...call, endedAt: Date.now() });
        figures.requests++;
      };
      async function client() {
        for (let i = 0; running && i < 20_000; i++) {
          const dice = rand();
          if (dice < 0.6) {
            const n = ++counter;
            const [key, name, target] = [`restart-${SEED}-${n}`, `renamed-${n}`, subs[Math.floor(rand() * subs.length)]];
            // Retried with the same key until a real answer (bounded).
            for (let attempt = 0; attempt < 300; attempt++) {
              const startedAt = Date.now();
              const outcome = await send(baseUrl, `/2010-04-01/Accounts/${target}.json`, {
                as: main,
                body: { FriendlyName: name },
                headers: { 'Idempotency-Key': key, 'User-Agent': `reliability-restart ${key}` },
                timeoutMs: 10_000,
              });
              record({ kind: 'rename', key, name, sid: target, outcome, startedAt });
              if (!(outcome.kind === 'response' && outcome.status === 503)) break;
              await sleep(50 + rand() * 100);
            }
          } else {
            const startedAt = Date.now();
            const [kind, path] = dice < 0.8 ? (['list', '/2010-04-01/Accounts.json?PageSize=5'] as const) : (['events', `/v1/Events?ResourceSid=${subs[0]}&PageSize=5`] as const);
            record({ kind, outcome: await send(baseUrl, path, { as: main, timeoutMs: 10_000 }), startedAt });
          }
          await sleep(rand() * 30);
        }
      }
      clients = Promise.all(Array.from({ length: CLIENTS }, client)).then(() => undefined);
      const ok = (c: Call) => c.outcome.kind === 'response' && c.outcome.status === 200;

      const windows: { stopping: number; down: number; restarting: number; back: number }[] = [];
      for (let outage = 0; outage < OUTAGES; outage++) {
        const before = calls.filter(ok).length;
        await waitUntil('traffic succeeds before the outage', () => calls.filter(ok).length >= before + 20, 30_000, 20);
        const stopping = Date.now();
        await server.stop();
        const down = Date.now();
        await sleep(DOWN_MS);
        const restarting = Date.now();
        server = await startEmbeddedPostgres(options);
        servers.push(server);
        const back = Date.now();
        windows.push({ stopping, down, restarting, back });
        const recovery = await waitUntil(
          'a rename, a list and an audit read succeed again',
          () => (['rename', 'list', 'events'] as const).every((kind) => calls.some((c) => c.kind === kind && c.startedAt >= back && ok(c))),
          RECOVERY_LIMIT_MS,
          20,
        );
        figures['slowest recovery (ms)'] = Math.max(figures['slowest recovery (ms)'], recovery);
        figures.restarts = outage + 1;
      }
      const after = calls.filter(ok).length;
      await waitUntil('more traffic after the last recovery', () => calls.filter(ok).length >= after + 20, 10_000, 20);
      running = false;
      await clients;
      expect(service.child.exitCode).toBeNull();

      // Only 200 or 503, always complete, always in time; every 503 is Twilio's envelope with 20503.
      const wrong = calls.filter(
        (c) =>
          c.outcome.kind !== 'response' ||
          c.endedAt - c.startedAt > ANSWER_LIMIT_MS ||
          !(c.outcome.status === 200 || (c.outcome.status === 503 && isTwilioError(c.outcome, 503, 20503))),
      );
      expect(wrong.map((c) => `${c.kind} ${c.endedAt - c.startedAt} ms: ${describeOutcome(c.outcome)}`)).toEqual([]);
      // While the server was away: 503 and nothing else.
      const during = calls.filter((c) => windows.some((w) => c.startedAt >= w.down && c.endedAt <= w.restarting));
      expect(during.length).toBeGreaterThan(5);
      expect(during.filter((c) => (c.outcome as { status: number }).status !== 503).map((c) => describeOutcome(c.outcome))).toEqual([]);
      figures['answered 503 while down'] = during.length;

      // Every rename acknowledged once, in the log once; none in the log that was never answered.
      const acknowledged = calls.filter((c) => c.kind === 'rename' && ok(c));
      figures['acknowledged renames'] = acknowledged.length;
      const db = new pg.Client({ connectionString: server.url });
      await db.connect();
      try {
        const { rows } = await db.query<{ ua: string; n: number; name: string; stream_id: string }>(
          `SELECT metadata->>'userAgent' AS ua, count(*)::int AS n, min(data->>'friendlyName') AS name, min(stream_id) AS stream_id
             FROM events WHERE metadata->>'userAgent' LIKE 'reliability-restart %' GROUP BY 1`,
        );
        const byKey = new Map(rows.map((r) => [r.ua.slice('reliability-restart '.length), r]));
        const lost = acknowledged.filter((c) => {
          const stored = byKey.get(c.key!);
          return !stored || stored.n !== 1 || stored.name !== c.name || stored.stream_id !== `account-${c.sid}`;
        });
        expect(lost.map((c) => `${c.key}: ${JSON.stringify(byKey.get(c.key!))}`)).toEqual([]);
        const answeredKeys = new Set(acknowledged.map((c) => c.key));
        expect([...byKey.keys()].filter((k) => !answeredKeys.has(k))).toEqual([]);
        // The audit projection resumed too: every acknowledged rename is audited.
        await waitUntil(
          'every rename is audited',
          async () => Number((await db.query(`SELECT count(*) AS n FROM audit_history WHERE user_agent LIKE 'reliability-restart %'`)).rows[0].n) === acknowledged.length,
          15_000,
          100,
        );
      } finally {
        await db.end();
      }
      held = 'only 503 20503 while down, answered < 3 s; recovered < 5 s; each acknowledged rename stored once and audited';
    } finally {
      running = false;
      await clients?.catch(() => undefined);
      recordResult({ item: 4, title: 'Database restart mid-load', figures, held });
    }
  }, byProfile({ ci: 90_000, full: 240_000 }));
});
