import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { call, createMainViaCli, describeOutcome, newEncryptionKey, Processes, sleep, type Credentials, type Outcome } from './ops.helpers';

const IN_FLIGHT = 45;
const AFTER_SIGNAL = 10;
const MAINS = 3;
const EXIT_LIMIT_MS = 15_000;

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

interface Sent {
  name: string;
  main: Credentials;
  sentAt: number;
  outcome: Promise<Outcome>;
}

/**
 * SIGTERM in the middle of a burst of creates: the service drains what it accepted (each such
 * request gets its complete 201), refuses new connections once its listener is closed, exits 0
 * after saying "stopped", and every acknowledged subaccount is in the log exactly once — while no
 * request that got no answer left anything behind.
 */
describe('graceful shutdown with requests in flight', () => {
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

  it('SIGTERM drains in-flight creates: complete 201s or connection refused, exit 0, every 201 stored once', async () => {
    const mains = await Promise.all(Array.from({ length: MAINS }, (_, i) => createMainViaCli(`shutdown main ${i}`, env)));
    const service = await processes.start('service', [], env);
    let exitedAt = 0;
    const exited = new Promise<number | null>((resolve) =>
      service.child.on('exit', (code) => {
        exitedAt = Date.now();
        resolve(code);
      }),
    );

    const sent: Sent[] = [];
    const send = (i: number) => {
      const main = mains[i % mains.length];
      const name = `shutdown-${i}`;
      sent.push({
        name,
        main,
        sentAt: Date.now(),
        outcome: call(service.url, '/2010-04-01/Accounts.json', { as: main, form: { FriendlyName: name }, timeoutMs: EXIT_LIMIT_MS }),
      });
    };
    for (let i = 0; i < IN_FLIGHT; i++) send(i);
    // The signal goes once the service is demonstrably working through the burst.
    const first = await Promise.race(sent.map((s) => s.outcome));
    expect(describeOutcome(first)).toMatch(/^201 /);
    const signalledAt = Date.now();
    service.child.kill('SIGTERM');
    // More requests while it drains…
    let next = IN_FLIGHT;
    for (; next < IN_FLIGHT + AFTER_SIGNAL; next++) {
      await sleep(15);
      send(next);
    }
    // …and until its listener has closed (bounded), then a few more against the closed listener.
    let closedAt = 0;
    for (let probe = 0; probe < 100 && !closedAt && exitedAt === 0 && Date.now() - signalledAt < EXIT_LIMIT_MS; probe++) {
      send(next++);
      const outcome = await sent[sent.length - 1].outcome;
      if (outcome.kind === 'connect' && outcome.code === 'ECONNREFUSED') closedAt = Date.now();
      else await sleep(20);
    }
    const afterClose = closedAt ? next : Infinity;
    if (closedAt) for (let k = 0; k < 3; k++) send(next++);

    const code = await withTimeout(exited, EXIT_LIMIT_MS, 'the service did not exit in time');
    const outcomes = await Promise.all(sent.map(async (s) => ({ ...s, result: await s.outcome })));
    expect(code).toBe(0);
    expect(service.output()).toMatch(/SIGTERM received: draining requests and stopping/);
    expect(service.output()).toMatch(/"msg":"stopped"/);

    // Every answer is a complete 201; the only other outcome is a refused (or reset, unanswered)
    // connection, and only for a request sent after the signal.
    const bad = outcomes.filter(({ result, sentAt }) => {
      if (result.kind === 'response') return !(result.complete && result.status === 201 && typeof result.json?.sid === 'string');
      if (result.kind === 'connect') return sentAt < signalledAt || !['ECONNREFUSED', 'ECONNRESET'].includes(result.code);
      return true;
    });
    expect(bad.map((o) => `${o.name} (sent ${o.sentAt - signalledAt} ms after SIGTERM): ${describeOutcome(o.result)}`)).toEqual([]);

    const created = outcomes.filter((o) => o.result.kind === 'response');
    const refused = outcomes.filter((o) => o.result.kind !== 'response');
    // The listener did close while the process drained, and what came after was refused.
    expect(closedAt).toBeGreaterThan(0);
    const sentAfterClose = outcomes.filter((o) => Number(o.name.split('-')[1]) >= afterClose);
    expect(sentAfterClose.map((o) => describeOutcome(o.result).split(' ').slice(0, 2).join(' '))).toEqual(['connect ECONNREFUSED', 'connect ECONNREFUSED', 'connect ECONNREFUSED']);
    // The burst was really in flight: answers kept coming after the signal.
    const answeredAfterSignal = created.filter((o) => o.result.endedAt > signalledAt).length;
    expect(answeredAfterSignal).toBeGreaterThan(5);

    // The log: each acknowledged subaccount exactly once, with the sid we were given; nothing for
    // the requests that got no answer.
    const { rows } = await sql<{ sid: string; name: string; n: number }>`
      SELECT data->>'sid' AS sid, data->>'friendlyName' AS name, count(*)::int AS n
        FROM events WHERE type = 'SubaccountCreated' GROUP BY 1, 2`.execute(database.db);
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const o of created) {
      const stored = byName.get(o.name);
      expect({ name: o.name, sid: stored?.sid, n: stored?.n }).toEqual({ name: o.name, sid: (o.result as { json: { sid: string } }).json.sid, n: 1 });
    }
    for (const o of refused) expect(byName.get(o.name)).toBeUndefined();
    expect(rows.reduce((n, r) => n + r.n, 0)).toBe(created.length);

    process.stdout.write(
      `[ops] shutdown: ${created.length} created (${answeredAfterSignal} answered after SIGTERM), ${refused.length} refused; ` +
        `listener closed ${closedAt - signalledAt} ms and exit ${exitedAt - signalledAt} ms after the signal\n`,
    );
  }, 60_000);
});
