import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newAuthToken } from '@accountable/secrets';
import { runCli, startService, type ServiceProcess } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeOutcome, isTwilioError, send, sleep, type Credentials, type Outcome } from './support/http';
import { byProfile } from './support/profile';
import { recordResult } from './support/results';

const BOMB_ROUNDS = byProfile({ ci: 4, full: 20 });
const IDLE_SOCKETS = 300; // above the default 256 per address: the rest are refused
const SLOW_SOCKETS = byProfile({ ci: 40, full: 200 });
/** Wrong passwords from each of five addresses, all for the good client's own sid. */
const WRONG_PER_ADDRESS = byProfile({ ci: 700, full: 2_000 });
const ATTACKERS = ['127.0.0.2', '127.0.0.7', '127.0.0.8', '127.0.0.9', '127.0.0.10'];
/**
 * Each account may make ACCOUNT_REQUESTS per ACCOUNT_WINDOW_S here. The good client, one GET every
 * 40 ms, makes at most 250 in a window; the noisy tenant sends more than the limit as fast as it can.
 */
const ACCOUNT_REQUESTS = 400;
const ACCOUNT_WINDOW_S = 10;
const GOOD_INTERVAL_MS = 40;
const NOISY_REQUESTS = byProfile({ ci: 800, full: 4_000 });
/** The good client alone, before any abuse: the reference for its latency under abuse. */
const QUIET_MS = byProfile({ ci: 2_000, full: 5_000 });
const DEFAULT_FAILURES_PER_ADDRESS = 600;
const DEFAULT_FAILURES_PER_ACCOUNT = 1_800;
/** The server's timeouts for this run (the defaults are 10 s and 30 s; the mechanism is the same). */
const HEADERS_TIMEOUT_MS = 2_000;

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const repeats = (n: number) => Array(n).fill('a').join('&');

const agentFrom = (localAddress: string, maxSockets = 16) => new http.Agent({ keepAlive: true, maxSockets, localAddress });

/** Bounded concurrency over a list of jobs. */
async function pool<T>(concurrency: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await jobs[i]();
      }
    }),
  );
  return results;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

interface RawSocket {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
  /** false: closed by the server before it was even connected (refused). */
  connected: Promise<boolean>;
}

function rawSocket(port: number, localAddress: string): RawSocket {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let text = '';
  let wasConnected = false;
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return {
    socket,
    received: () => text,
    closed,
    connected: new Promise((resolve) => {
      socket.on('connect', () => {
        wasConnected = true;
        resolve(true);
      });
      void closed.then(() => resolve(wasConnected));
    }),
  };
}

/**
 * R9: a hostile client against the built service, while a good client (its own account, from its
 * own address) reads its account every 20 ms throughout. Bombs without credentials (the issue's
 * 20,000-repeat form body, 40,000 repeats, over-size bodies, 100,000-deep JSON, 50,000 JSON keys):
 * each 401, never parsed. The same with credentials: 400 20002 / 413, nothing stored. Idle and
 * slow sockets past one address's share: refused or closed by the headers timeout. A burst of
 * wrong passwords for the good client's own sid from five addresses: 429s once the address and
 * the sid have used up their failures, while the good client (whose password succeeded before)
 * goes on. An account flooding its own reads past its rate: 429s for it alone. The good client
 * must never see anything but 200; its p99 is reported, not asserted (the machine is shared).
 */
describe('R9 abuse: bombs, idle sockets, wrong-password bursts and a noisy tenant, beside a good client', () => {
  let database: TestDatabase;
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const agents: http.Agent[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-abuse-'));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    for (const a of agents) a.destroy();
    await service?.stop('SIGTERM', 5_000);
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('the good client is served throughout; every abuse is refused in the envelope; nothing is stored', async () => {
    const figures: Record<string, number | string> = {
      'bombs without credentials': 0,
      'bombs with credentials': 0,
      'idle sockets': IDLE_SOCKETS,
      'refused at once': 0,
      'slow sockets': SLOW_SOCKETS,
      'closed by the server': 0,
      'wrong passwords': 0,
      'answered 401': 0,
      'answered 429': 0,
      'noisy requests': 0,
      'noisy 429': 0,
      'good GETs': 0,
      'good p50 ms': NaN,
      'good p99 ms': NaN,
      'good p99 ms quiet/bombs/sockets/burst/noisy': '',
      'RSS MB start→end': '',
    };
    let held = '';
    const good: (Outcome & { at: number })[] = [];
    /** When each phase began, to report the good client's p99 in each. */
    const phases: number[] = [];
    let stopGood = false;
    let goodLoop: Promise<void> | undefined;
    try {
      const env = {
        DATABASE_URL: database.url,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: dataDir,
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS * 2),
        RATE_LIMIT_REQUESTS_PER_ACCOUNT: String(ACCOUNT_REQUESTS),
        RATE_LIMIT_REQUESTS_WINDOW_S: String(ACCOUNT_WINDOW_S),
      };
      const mainOf = async (name: string): Promise<Credentials> => {
        const result = await runCli(['create-main', '--friendly-name', name, '--type', 'Full', '--json'], env);
        expect(result.code).toBe(0);
        const created = JSON.parse(result.stdout);
        return { sid: created.sid, authToken: created.auth_token };
      };
      const [goodAccount, bomber, noisy] = await Promise.all([mainOf('Good'), mainOf('Bomber'), mainOf('Noisy')]);
      service = startService(env);
      const [, baseUrl] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      const port = Number(new URL(baseUrl).port);
      const rssStart = rssMb(service.pid);
      const eventsBefore = (await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n;

      // The good client: its own keep-alive connection from 127.0.0.1, one GET every 40 ms.
      const goodAgent = agentFrom('127.0.0.1', 1);
      agents.push(goodAgent);
      const goodPath = `/2010-04-01/Accounts/${goodAccount.sid}.json`;
      goodLoop = (async () => {
        while (!stopGood) {
          const started = Date.now();
          good.push({ ...(await send(baseUrl, goodPath, { as: goodAccount, agent: goodAgent, timeoutMs: 15_000 })), at: started });
          await sleep(Math.max(0, GOOD_INTERVAL_MS - (Date.now() - started)));
        }
      })();
      phases.push(Date.now());
      await sleep(QUIET_MS);

      const unexpected: string[] = [];
      const expectAnswer = (what: string, o: Outcome, statuses: number[], code?: number) => {
        // An error in Twilio's envelope (with its code when given); a success as it is.
        const ok = o.kind === 'response' && statuses.includes(o.status) && (o.status < 400 || isTwilioError(o, undefined, code));
        if (!ok && unexpected.length < 20) unexpected.push(`${what}: ${describeOutcome(o).slice(0, 200)}`);
        return o.kind === 'response' ? o.status : 0;
      };

      // 1. Bombs without credentials, and 2. with them.
      const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
      const bombs: { name: string; body: string; type: string; status: number }[] = [
        { name: '20,000 repeats', body: repeats(20_000), type: FORM, status: 400 },
        { name: '40,000 repeats', body: repeats(40_000), type: FORM, status: 400 },
        { name: 'over 1 MiB', body: `FriendlyName=${'a'.repeat(1024 * 1024)}`, type: FORM, status: 413 },
        { name: '100,000-deep JSON object', body: deepObject, type: JSON_TYPE, status: 400 },
        { name: '100,000-deep JSON array', body: '['.repeat(100_000) + ']'.repeat(100_000), type: JSON_TYPE, status: 400 },
        { name: '50,000 JSON keys', body: JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, 'v']))), type: JSON_TYPE, status: 400 },
      ];
      const bombAgent = agentFrom('127.0.0.4', 4);
      const bomberAgent = agentFrom('127.0.0.5', 4);
      agents.push(bombAgent, bomberAgent);
      const bombPaths = ['/2010-04-01/Accounts.json', `/2010-04-01/Accounts/${bomber.sid}.json`];
      const bombJobs: (() => Promise<void>)[] = [];
      for (let round = 0; round < BOMB_ROUNDS; round++) {
        for (const bomb of bombs) {
          for (const p of bombPaths) {
            bombJobs.push(async () => {
              const o = await send(baseUrl, p, { body: bomb.body, contentType: bomb.type, agent: bombAgent });
              figures['bombs without credentials'] = (figures['bombs without credentials'] as number) + 1;
              expectAnswer(`${bomb.name} without credentials`, o, [401], 20003);
            });
            bombJobs.push(async () => {
              const o = await send(baseUrl, p, { as: bomber, body: bomb.body, contentType: bomb.type, agent: bomberAgent });
              figures['bombs with credentials'] = (figures['bombs with credentials'] as number) + 1;
              expectAnswer(`${bomb.name} with credentials`, o, [bomb.status], 20002);
            });
          }
        }
        const query = Array.from({ length: 1_000 }, (_, i) => `p${i}=${i}`).join('&');
        bombJobs.push(async () => {
          const o = await send(baseUrl, `/2010-04-01/Accounts.json?${query}`, { as: bomber, agent: bomberAgent });
          figures['bombs with credentials'] = (figures['bombs with credentials'] as number) + 1;
          expectAnswer('1,000 query parameters', o, [400], 20002);
        });
      }
      phases.push(Date.now());
      await pool(8, bombJobs);

      // 3. Idle sockets past one address's share, and slow ones dripping their headers.
      phases.push(Date.now());
      const idle = Array.from({ length: IDLE_SOCKETS }, () => rawSocket(port, '127.0.0.3'));
      const slow = Array.from({ length: SLOW_SOCKETS }, () => rawSocket(port, '127.0.0.6'));
      sockets.push(...[...idle, ...slow].map((s) => s.socket));
      const idleConnected = await Promise.all(idle.map((s) => s.connected));
      await Promise.all(slow.map((s) => s.connected));
      for (const s of slow) s.socket.write(`GET ${goodPath} HTTP/1.1\r\nHost: x\r\n`);
      const drip = setInterval(() => {
        for (const s of slow) if (s.socket.writable) s.socket.write('X-Slow: y\r\n');
      }, 250);
      try {
        await Promise.all([...idle, ...slow].map((s) => s.closed));
      } finally {
        clearInterval(drip);
      }
      // A socket the server took and later closed got 408; one past the address's share got nothing.
      const refused = idle.filter((s, i) => !idleConnected[i] || s.received() === '').length;
      const timedOut = [...idle, ...slow].filter((s) => /^HTTP\/1\.1 408 /.test(s.received())).length;
      figures['refused at once'] = refused;
      figures['closed by the server'] = timedOut;
      expect(refused).toBe(IDLE_SOCKETS - 256);
      expect(timedOut).toBe(256 + SLOW_SOCKETS);

      // 4. Wrong passwords for the good client's own sid, from five addresses at once.
      const burstAgents = ATTACKERS.map((a) => agentFrom(a, 4));
      agents.push(...burstAgents);
      const burst: (() => Promise<number>)[] = [];
      for (let i = 0; i < WRONG_PER_ADDRESS; i++) {
        for (const agent of burstAgents) {
          burst.push(async () => {
            const o = await send(baseUrl, goodPath, { as: { sid: goodAccount.sid, authToken: newAuthToken() }, agent });
            const status = expectAnswer('wrong password', o, [401, 429]);
            if (status === 429) expectAnswer('wrong password refused', o, [429], 20429);
            return status;
          });
        }
      }
      phases.push(Date.now());
      const statuses = await pool(16, burst);
      figures['wrong passwords'] = statuses.length;
      figures['answered 401'] = statuses.filter((s) => s === 401).length;
      figures['answered 429'] = statuses.filter((s) => s === 429).length;

      // 5. A tenant reading its own account past its rate, 16 at a time.
      const noisyAgent = agentFrom('127.0.0.11', 16);
      agents.push(noisyAgent);
      phases.push(Date.now());
      const noisyStatuses = await pool(
        16,
        Array.from({ length: NOISY_REQUESTS }, () => async () => {
          const o = await send(baseUrl, `/2010-04-01/Accounts/${noisy.sid}.json`, { as: noisy, agent: noisyAgent });
          const status = expectAnswer('noisy tenant', o, [200, 429]);
          if (status === 429) expectAnswer('noisy tenant refused', o, [429], 20429);
          return status;
        }),
      );
      figures['noisy requests'] = noisyStatuses.length;
      figures['noisy 429'] = noisyStatuses.filter((s) => s === 429).length;

      phases.push(Date.now());
      await sleep(500);
      stopGood = true;
      await goodLoop;
      figures['RSS MB start→end'] = `${rssStart.toFixed(0)}→${rssMb(service.pid).toFixed(0)}`;

      // What held.
      const goodStatuses = good.map((o) => (o.kind === 'response' ? String(o.status) : `${o.kind} ${o.code}`));
      const latencies = good.map((o) => o.ms).sort((a, b) => a - b);
      figures['good GETs'] = good.length;
      figures['good p50 ms'] = percentile(latencies, 50);
      figures['good p99 ms'] = percentile(latencies, 99);
      figures['good p99 ms quiet/bombs/sockets/burst/noisy'] = phases
        .slice(0, -1)
        .map((from, i) => percentile(good.filter((o) => o.at >= from && o.at < phases[i + 1]).map((o) => o.ms).sort((a, b) => a - b), 99))
        .join('/');
      expect(unexpected).toEqual([]);
      expect(goodStatuses.filter((s) => s !== '200')).toEqual([]);
      // The burst met 429s: each address refused after its failures, and the sid after its own.
      expect(figures['answered 429']).toBeGreaterThan(0);
      expect(figures['answered 401']).toBeLessThanOrEqual(Math.min(ATTACKERS.length * DEFAULT_FAILURES_PER_ADDRESS, DEFAULT_FAILURES_PER_ACCOUNT) + 16);
      expect(figures['noisy 429']).toBeGreaterThan(0);
      const eventsAfter = (await database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0].n;
      expect(eventsAfter).toBe(eventsBefore);
      expect(service.output()).not.toMatch(/"level":"(error|fatal)"/);
      held = 'good client: every GET 200; bombs 401 unparsed, or 400/413 with credentials; nothing stored; idle/slow sockets refused or closed (408); 429s for the burst and the noisy tenant';
    } finally {
      stopGood = true;
      await goodLoop?.catch(() => undefined);
      recordResult({ item: 9, title: 'Abuse (bombs, sockets, bursts)', figures, held });
    }
  }, byProfile({ ci: 120_000, full: 600_000 }));
});
