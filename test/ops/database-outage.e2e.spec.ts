import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedOptions, type EmbeddedPostgres } from '@accountable/database';
import {
  call,
  createMainViaCli,
  describeOutcome,
  freePort,
  isOk,
  newEncryptionKey,
  Processes,
  sleep,
  waitForZeroLag,
  waitUntil,
  type Outcome,
} from './ops.helpers';

/** An answer during the outage must come within this; a request that hangs longer is a bug. */
const ANSWER_LIMIT_MS = 5_000;
const CLIENT_TIMEOUT_MS = 10_000;
const DOWN_FOR_MS = 2_500;
const RECOVERY_LIMIT_MS = 5_000;

interface Call {
  kind: 'create' | 'fetch' | 'ready';
  name?: string;
  outcome: Outcome;
}

/**
 * The service's own PostgreSQL goes away under traffic and comes back on the same port and data
 * directory. While it is down every answer is a prompt 503 in Twilio's envelope (code 20503) —
 * never a 500, never a hang — and /health/ready says 503; once it is back the same service
 * process serves again within seconds, and every write it acknowledged, before or after, is in
 * the log.
 */
describe('the database goes down and comes back under a running service', () => {
  let dataDir: string;
  let serviceDir: string;
  let options: EmbeddedOptions;
  const servers: EmbeddedPostgres[] = [];
  const processes = new Processes();

  beforeAll(async () => {
    // The server's own directory (as root it is handed to the `postgres` user), the service's apart.
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-outage-'));
    serviceDir = await mkdtemp(path.join(tmpdir(), 'accountable-outage-service-'));
    options = { dataDir, port: await freePort(), settings: { fsync: 'off', full_page_writes: 'off' } };
  });

  afterAll(async () => {
    await processes.stopAll();
    for (const server of servers) await server.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (serviceDir) await rm(serviceDir, { recursive: true, force: true });
  });

  it('503 20503 promptly while it is down, serving again within 5 s of its return, no acknowledged write lost', async () => {
    const first = await startEmbeddedPostgres(options);
    servers.push(first);
    const env = { DATABASE_URL: first.url, ENCRYPTION_KEY: newEncryptionKey(), DATA_DIR: serviceDir };
    const main = await createMainViaCli('outage main', env);
    const service = await processes.start('service', [], env);

    // Traffic for the whole test: creates, reads and readiness probes, each loop sequential.
    const calls: Call[] = [];
    let running = true;
    const loopsEnd = Date.now() + 60_000;
    const loop = async (step: (i: number) => Promise<Call>, pauseMs: number) => {
      for (let i = 0; running && i < 2_000 && Date.now() < loopsEnd; i++) {
        calls.push(await step(i));
        await sleep(pauseMs);
      }
    };
    const create = (i: number): Promise<Call> => {
      const name = `outage-${i}`;
      return call(service.url, '/2010-04-01/Accounts.json', { as: main, form: { FriendlyName: name }, timeoutMs: CLIENT_TIMEOUT_MS }).then(
        (outcome) => ({ kind: 'create', name, outcome }),
      );
    };
    const fetchMain = (): Promise<Call> =>
      call(service.url, `/2010-04-01/Accounts/${main.sid}.json`, { as: main, timeoutMs: CLIENT_TIMEOUT_MS }).then((outcome) => ({ kind: 'fetch', outcome }));
    const ready = (): Promise<Call> => call(service.url, '/health/ready', { timeoutMs: CLIENT_TIMEOUT_MS }).then((outcome) => ({ kind: 'ready', outcome }));
    const timeline = (t0: number) =>
      [
        ...calls.map(
          (c) => `${String(c.outcome.startedAt - t0).padStart(6)}..${String(c.outcome.endedAt - t0).padStart(6)} ms ${c.kind.padEnd(6)} ${describeOutcome(c.outcome).slice(0, 160)}`,
        ),
        '--- service output:',
        service.output().slice(-6000),
      ].join('\n');
    const loops = Promise.all([loop(create, 20), loop(fetchMain, 20), loop(ready, 100)]);

    try {
      const okOf = (kind: Call['kind'], after = 0) => calls.filter((c) => c.kind === kind && c.outcome.startedAt >= after && isOk(c.outcome));
      await waitUntil('writes and reads succeed before the outage', () => okOf('create').length >= 5 && okOf('fetch').length >= 5 && okOf('ready').length >= 1, {
        timeoutMs: 15_000,
      });

      const stopping = Date.now();
      await first.stop();
      const down = Date.now();
      await sleep(DOWN_FOR_MS);
      const restarting = Date.now();
      const second = await startEmbeddedPostgres(options);
      servers.push(second);
      const back = Date.now();
      expect(second.port).toBe(first.port);

      // Back within 5 s of the server's return, in the same service process.
      const recovery = await waitUntil(
        'a create, a read and readiness succeed again',
        () => okOf('create', back).length > 0 && okOf('fetch', back).length > 0 && okOf('ready', back).length > 0,
        { timeoutMs: RECOVERY_LIMIT_MS, intervalMs: 20, detail: () => timeline(stopping) },
      );
      const recovered = Date.now();
      // A little steady traffic after recovery, then stop the clients.
      await waitUntil('more writes after recovery', () => okOf('create', back).length >= 5, { timeoutMs: 5_000 });
      running = false;
      await loops;
      expect(service.child.exitCode).toBeNull();
      expect(service.child.signalCode).toBeNull();

      // Never a 500, never a truncated answer, never a hang: every call got a complete answer in time.
      const wrong = calls.filter(
        (c) =>
          c.outcome.kind !== 'response' ||
          !c.outcome.complete ||
          c.outcome.endedAt - c.outcome.startedAt > ANSWER_LIMIT_MS ||
          !(c.outcome.status < 300 || c.outcome.status === 503),
      );
      expect(wrong.map((c) => `${c.kind} after ${c.outcome.startedAt - stopping} ms, ${c.outcome.endedAt - c.outcome.startedAt} ms: ${describeOutcome(c.outcome)}`)).toEqual([]);

      // While the server was down: only 503, the API's in Twilio's envelope.
      const during = calls.filter((c) => c.outcome.startedAt >= down && c.outcome.endedAt <= restarting);
      for (const kind of ['create', 'fetch', 'ready'] as const) expect(during.filter((c) => c.kind === kind).length).toBeGreaterThan(3);
      for (const c of during) {
        const o = c.outcome as Extract<Outcome, { kind: 'response' }>;
        expect({ kind: c.kind, status: o.status }).toEqual({ kind: c.kind, status: 503 });
        if (c.kind === 'ready') {
          expect(o.json).toMatchObject({ status: 'error', error: { database: { status: 'down' } } });
        } else {
          expect(Object.keys(o.json).sort()).toEqual(['code', 'message', 'more_info', 'status']);
          expect(o.json).toMatchObject({ code: 20503, status: 503, message: expect.any(String), more_info: expect.stringContaining('20503') });
        }
      }
      // Any 503 at all came from the outage, never before it or after recovery.
      const stray = calls.filter((c) => c.outcome.kind === 'response' && c.outcome.status === 503 && (c.outcome.endedAt < stopping || c.outcome.startedAt > recovered));
      expect(stray.map((c) => `${c.kind}: ${describeOutcome(c.outcome)}`)).toEqual([]);

      // Every acknowledged create is in the log exactly once, with the sid the client was given.
      const acknowledged = calls.filter((c) => c.kind === 'create' && isOk(c.outcome));
      expect(acknowledged.filter((c) => c.outcome.endedAt <= stopping).length).toBeGreaterThanOrEqual(5);
      expect(acknowledged.filter((c) => c.outcome.startedAt > back).length).toBeGreaterThanOrEqual(5);
      const client = new pg.Client({ connectionString: second.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ sid: string; name: string; n: number }>(
          `SELECT data->>'sid' AS sid, data->>'friendlyName' AS name, count(*)::int AS n FROM events WHERE type = 'SubaccountCreated' GROUP BY 1, 2`,
        );
        const byName = new Map(rows.map((r) => [r.name, r]));
        const lost = acknowledged.filter((c) => {
          const stored = byName.get(c.name!);
          return !stored || stored.n !== 1 || stored.sid !== (c.outcome as { json: { sid: string } }).json.sid;
        });
        expect(lost.map((c) => `${c.name}: ${describeOutcome(c.outcome)}`)).toEqual([]);
        const refusedButStored = calls.filter((c) => c.kind === 'create' && !isOk(c.outcome) && byName.has(c.name!)).length;

        // The projector reconnected by itself: it caught up with every event, and each acknowledged
        // create has its one account.created row in the audit history.
        await waitForZeroLag(env, 15_000);
        const audited = await client.query<{ resource_sid: string; n: number }>(
          `SELECT resource_sid, count(*)::int AS n FROM audit_history WHERE event_type = 'account.created' AND resource_sid = ANY($1) GROUP BY 1`,
          [acknowledged.map((c) => (c.outcome as { json: { sid: string } }).json.sid)],
        );
        expect(audited.rows.filter((r) => r.n === 1)).toHaveLength(acknowledged.length);
        process.stdout.write(
          `[ops] outage: ${calls.length} calls; stop took ${down - stopping} ms, restart ${back - restarting} ms; ` +
            `${during.length} answered while down (all 503); recovered ${recovery} ms after the server's return; ` +
            `${acknowledged.length} creates acknowledged, all stored once; ${refusedButStored} refused creates committed anyway\n`,
        );
      } finally {
        await client.end();
      }
    } finally {
      running = false;
      await loops;
    }
  }, 90_000);
});
