import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '@accountable/database';
import { runCli, startService, type ServiceProcess } from '../support/processes';
import { freePort, killPostgres, postmasterPid, waitGone } from './support/embedded';
import { describeOutcome, send, sleep, waitUntil, type Credentials, type Outcome } from './support/http';
import { byProfile, random, SEED } from './support/profile';
import { recordResult } from './support/results';

const KILLS = byProfile({ ci: 2, full: 8 });
const CLIENTS = 12;
/** Load between two kills, at random within these bounds (ms). */
const LOAD_MS = byProfile({ ci: [600, 2_000], full: [500, 4_000] });
/** A client gives up on one request after this long without an answer: then the test fails. */
const ANSWER_WITHIN_MS = 120_000;

interface Op {
  kind: 'create' | 'rename';
  key: string;
  name: string;
  /** rename: the account renamed. */
  sid?: string;
  attempts: number;
  /** When the attempt that got the answer started. */
  answeredAttemptAt?: number;
  answer?: Outcome;
  /** Answers on the way that are neither an answer nor "try again" (5xx other than 503). */
  serverErrors: string[];
}

const AUDITED_TYPES = ['MainAccountCreated', 'SubaccountCreated', 'AccountRenamed', 'AccountStatusChanged', 'AccountUpgraded'];

/**
 * The service and its embedded PostgreSQL are SIGKILLed together (the postmaster and every child,
 * in a random order) at random points of a load of creates and renames, then the service is
 * restarted on the same DATA_DIR and port. Every client retries its request with the same
 * Idempotency-Key until it gets an answer. Afterwards: every acknowledged request is in the log
 * exactly once (its key → one set of events, one stored answer), and the read model and the audit
 * history equal a rebuild from the log (`verify --json` ok, audit rows = auditable events,
 * `projections rebuild` changes no row).
 */
describe('crash: SIGKILL of the service and its PostgreSQL under load', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-crash-'));
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      const kill = setTimeout(() => service!.child.kill('SIGKILL'), 15_000);
      await service.stop('SIGTERM');
      clearTimeout(kill);
    }
    // The service stops the server it started; one it merely joined (or a leftover) is ours to end.
    await waitGone(killPostgres(dataDir)).catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it(`${KILLS} kill rounds under ${CLIENTS} retrying clients: every acknowledged request once, read model and audit = rebuild`, async () => {
    const rand = random(SEED);
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    // No DATABASE_URL: the service starts its own embedded PostgreSQL in DATA_DIR.
    const env = { DATA_DIR: dataDir, PORT: String(port), DATABASE_URL: undefined, READ_DATABASE_URL: undefined, ENCRYPTION_KEY: undefined, PROJECTION_POLL_MS: '100' };
    const cliEnv = { DATA_DIR: dataDir, DATABASE_URL: undefined, READ_DATABASE_URL: undefined, ENCRYPTION_KEY: undefined };
    const figures = { kills: 0, clients: CLIENTS, 'requests sent': 0, 'acknowledged writes': 0, 'answered after a crash': 0, 'committed before a crash, answered by replay': 0, seed: SEED };
    let held = '';
    const ops: Op[] = [];
    let running = true;
    let clients: Promise<void> | undefined;

    try {
      service = startService({ ...env });
      await service.waitFor(/listening on/, 90_000);
      // First run on an empty embedded database: the service signs up a main account and, its
      // output being piped, leaves the credentials in a file in DATA_DIR whose path it logs.
      const [, file] = await service.waitFor(/"credentials_file":"([^"]+)"/);
      const credentials = await readFile(file, 'utf8');
      const sid = credentials.match(/^TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})$/m)![1];
      const authToken = credentials.match(/^TWILIO_AUTH_TOKEN=([0-9a-f]{32})$/m)![1];
      const main: Credentials = { sid, authToken };
      const acknowledgedSubs: string[] = [];
      let counter = 0;

      async function untilAnswered(op: Op, path: string, form: Record<string, string>) {
        const deadline = Date.now() + ANSWER_WITHIN_MS;
        while (Date.now() < deadline) {
          op.attempts++;
          figures['requests sent']++;
          const startedAt = Date.now();
          const o = await send(baseUrl, path, {
            as: main,
            body: form,
            headers: { 'Idempotency-Key': op.key, 'User-Agent': `reliability-crash ${op.key}` },
            timeoutMs: 15_000,
          });
          if (o.kind === 'response' && o.status !== 503 && o.status < 500) {
            op.answer = o;
            op.answeredAttemptAt = startedAt;
            return;
          }
          if (o.kind === 'response' && o.status !== 503) op.serverErrors.push(describeOutcome(o));
          await sleep(50 + rand() * 150);
        }
      }

      async function client() {
        for (let i = 0; running && i < 100_000; i++) {
          const n = ++counter;
          const op: Op =
            acknowledgedSubs.length === 0 || rand() < 0.4
              ? { kind: 'create', key: `crash-${SEED}-${n}`, name: `created-${n}`, attempts: 0, serverErrors: [] }
              : { kind: 'rename', key: `crash-${SEED}-${n}`, name: `renamed-${n}`, sid: acknowledgedSubs[Math.floor(rand() * acknowledgedSubs.length)], attempts: 0, serverErrors: [] };
          ops.push(op);
          if (op.kind === 'create') await untilAnswered(op, '/2010-04-01/Accounts.json', { FriendlyName: op.name });
          else await untilAnswered(op, `/2010-04-01/Accounts/${op.sid}.json`, { FriendlyName: op.name });
          if (op.kind === 'create' && op.answer?.kind === 'response' && op.answer.status === 201) acknowledgedSubs.push(op.answer.json.sid);
        }
      }
      clients = Promise.all(Array.from({ length: CLIENTS }, client)).then(() => undefined);

      /** SIGKILLs (through `kill`) as soon as a commit is notified on the feed's channel; bounded. */
      async function killOnNextCommit(kill: () => void): Promise<void> {
        const server = await startEmbeddedPostgres({ dataDir });
        const listener = new pg.Client({ connectionString: server.url });
        listener.on('error', () => undefined); // the crash ends this connection too
        await listener.connect();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            kill();
            resolve();
          }, 10_000);
          listener.on('notification', () => {
            clearTimeout(timer);
            kill();
            resolve();
          });
          void listener.query('LISTEN accountable_events');
        });
        await listener.end().catch(() => undefined);
      }

      const acknowledged = () => ops.filter((o) => o.answer?.kind === 'response' && o.answer.status < 300).length;
      for (let kill = 0; kill < KILLS; kill++) {
        const before = acknowledged();
        await waitUntil('writes are acknowledged again', () => acknowledged() >= before + 5, 90_000, 20);
        await sleep(LOAD_MS[0] + rand() * (LOAD_MS[1] - LOAD_MS[0]));

        // Crash: the service and every PostgreSQL process. Every other round at a random moment, in
        // a random order a few ms apart; the rounds between, the instant a commit is announced
        // (the service's NOTIFY right after its commit), which is often before its answer has left
        // the service: the case where only the Idempotency-Key keeps the client's retry from
        // writing twice.
        const victims: number[] = [];
        const killService = () => service!.child.kill('SIGKILL');
        const killDatabase = () => victims.push(...killPostgres(dataDir));
        if (kill % 2 === 1) {
          await killOnNextCommit(killService);
          killDatabase();
        } else {
          const order = rand();
          if (order < 0.34) {
            killService();
            killDatabase();
          } else if (order < 0.67) {
            killDatabase();
            await sleep(rand() * 30);
            killService();
          } else {
            killService();
            await sleep(rand() * 30);
            killDatabase();
          }
        }
        expect(victims.length).toBeGreaterThan(1);
        await service.exited();
        await waitGone(victims);
        figures.kills = kill + 1;
        await sleep(rand() * 500);

        service = startService({ ...env });
        await service.waitFor(/listening on/, 90_000);
      }
      const atLastRestart = acknowledged();
      await waitUntil('writes after the last restart', () => acknowledged() >= atLastRestart + 10, 60_000, 20);
      running = false;
      await clients;

      // Every request got an answer, and it was a success; none saw a 500 on the way.
      const unanswered = ops.filter((o) => !o.answer);
      expect(unanswered.map((o) => `${o.kind} ${o.key} after ${o.attempts} attempts`)).toEqual([]);
      const refused = ops.filter((o) => !(o.answer!.kind === 'response' && (o.answer as any).status === (o.kind === 'create' ? 201 : 200)));
      expect(refused.map((o) => `${o.kind} ${o.key}: ${describeOutcome(o.answer!)}`)).toEqual([]);
      expect(ops.flatMap((o) => o.serverErrors.map((e) => `${o.key}: ${e}`))).toEqual([]);
      figures['acknowledged writes'] = ops.length;
      figures['answered after a crash'] = ops.filter((o) => o.attempts > 1).length;

      const server = await startEmbeddedPostgres({ dataDir });
      expect(server.owned).toBe(false); // joined the service's server
      const db = new pg.Client({ connectionString: server.url });
      await db.connect();
      try {
        // Each acknowledged request: exactly one set of events, carrying its key (in the user agent).
        const { rows: events } = await db.query<{ ua: string; stream_id: string; type: string; data: any; recorded_at: Date }>(
          `SELECT metadata->>'userAgent' AS ua, stream_id, type, data, recorded_at FROM events WHERE metadata->>'userAgent' LIKE 'reliability-crash %'`,
        );
        const byKey = new Map<string, typeof events>();
        for (const e of events) byKey.set(e.ua.slice('reliability-crash '.length), [...(byKey.get(e.ua.slice('reliability-crash '.length)) ?? []), e]);
        const wrong: string[] = [];
        let replayed = 0;
        for (const op of ops) {
          const set = byKey.get(op.key) ?? [];
          const body = (op.answer as { json: any }).json;
          const shape = set.map((e) => `${e.type}@${e.stream_id}`).sort();
          const expected =
            op.kind === 'create'
              ? [`SubaccountAdded@account-${main.sid}`, `SubaccountCreated@account-${body.sid}`]
              : [`AccountRenamed@account-${op.sid}`];
          if (JSON.stringify(shape) !== JSON.stringify(expected)) wrong.push(`${op.key} (${op.kind}): ${JSON.stringify(shape)}, expected ${JSON.stringify(expected)}`);
          const named = set.find((e) => e.type === 'SubaccountCreated' || e.type === 'AccountRenamed');
          if (named && named.data.friendlyName !== op.name) wrong.push(`${op.key}: stored name ${named.data.friendlyName}`);
          if (body.friendly_name !== op.name) wrong.push(`${op.key}: answered name ${body.friendly_name}`);
          if (op.attempts > 1 && set.length > 0 && set[0].recorded_at.getTime() < op.answeredAttemptAt! - 5) replayed++;
        }
        expect(wrong).toEqual([]);
        expect([...byKey.keys()].filter((k) => !ops.some((o) => o.key === k))).toEqual([]);
        figures['committed before a crash, answered by replay'] = replayed;
        const keys = await db.query<{ key: string; n: number }>(`SELECT key, count(*)::int AS n FROM idempotency_keys GROUP BY key HAVING count(*) <> 1`);
        expect(keys.rows).toEqual([]);
        expect(Number((await db.query(`SELECT count(*) AS n FROM idempotency_keys`)).rows[0].n)).toBe(ops.length);
        // No subaccount created twice under another name or without its owner's record.
        const created = Number((await db.query(`SELECT count(*) AS n FROM events WHERE type = 'SubaccountCreated'`)).rows[0].n);
        expect(created).toBe(ops.filter((o) => o.kind === 'create').length);

        // The projections catch up, and what they built equals a rebuild from the log.
        await waitUntil(
          'projections status shows lag 0',
          async () => {
            const status = await runCli(['projections', 'status', '--json'], cliEnv);
            return status.code === 0 && JSON.parse(status.stdout).every((p: { lag_events: number }) => p.lag_events === 0);
          },
          60_000,
          200,
        );
        const verify = await runCli(['verify', '--json'], cliEnv);
        expect({ code: verify.code, stdout: verify.stdout }).toEqual({ code: 0, stdout: expect.stringContaining('"ok": true') });
        expect(JSON.parse(verify.stdout).accounts_checked).toBe(1 + created);

        const auditable = await db.query<{ event_id: string }>(
          `SELECT event_id FROM events WHERE stream_id LIKE 'account-%' AND type = ANY($1) ORDER BY event_id`,
          [AUDITED_TYPES],
        );
        const audited = await db.query<{ event_id: string }>(`SELECT event_id FROM audit_history ORDER BY event_id`);
        expect(audited.rows.length).toBe(auditable.rows.length);
        expect(audited.rows).toEqual(auditable.rows);

        const snapshot = async () => ({
          accounts: (await db.query(`SELECT t::text AS row FROM account_read_model t ORDER BY sid`)).rows.map((r) => r.row),
          audit: (await db.query(`SELECT t::text AS row FROM audit_history t ORDER BY sid`)).rows.map((r) => r.row),
        });
        const before = await snapshot();
        for (const name of ['accounts', 'audit']) {
          const rebuilt = await runCli(['projections', 'rebuild', name, '--json'], cliEnv);
          expect({ name, code: rebuilt.code, stderr: rebuilt.code === 0 ? '' : rebuilt.stderr }).toEqual({ name, code: 0, stderr: '' });
        }
        const after = await snapshot();
        expect(after.accounts).toEqual(before.accounts);
        expect(after.audit).toEqual(before.audit);

        // And the restarted service serves the same data.
        const fetched = await send(baseUrl, '/2010-04-01/Accounts.json?PageSize=1000', { as: main });
        expect(fetched.kind === 'response' && fetched.status).toBe(200);
        expect((fetched as any).json.accounts).toHaveLength(1 + created);
      } finally {
        await db.end();
      }
      held = 'each acknowledged request in the log once; verify ok; audit = auditable events; rebuild changed nothing';
    } finally {
      running = false;
      await clients?.catch(() => undefined);
      recordResult({ item: 3, title: 'Crash (SIGKILL service + PostgreSQL)', figures, held });
    }
  }, byProfile({ ci: 240_000, full: 900_000 }));
});
