import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventStore } from '@accountable/event-store';
import { runCli, startService, type ServiceProcess } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { describeOutcome, send, sleep, waitUntil, type Credentials } from './support/http';
import { byProfile } from './support/profile';
import { recordResult } from './support/results';

const POISONS = byProfile({ ci: 2, full: 10 });
const LATER_WRITES = byProfile({ ci: 40, full: 400 });
const PROBE_INTERVAL_MS = 100;

/**
 * R10: events the audit projection cannot apply — renames to names longer than a rule added to
 * its table after the log held them (an older version allowed them) — reach the built service's
 * log directly, with an event carrying a 3,000-character X-Forwarded-For-like address. The
 * projection parks them and goes on: the service's later writes are audited; `/health/ready`
 * answers 200 throughout and shows the parked count, as do `/metrics` and the CLI. The address
 * is no poison at all: stored as null. A retry before the fix leaves them parked; after the fix
 * (the rule relaxed) it applies each exactly once, and a rebuild then changes nothing.
 */
describe('R10 poison event', () => {
  let database: TestDatabase;
  let dataDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-poison-'));
  });
  afterAll(async () => {
    await service?.stop('SIGTERM', 10_000);
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('an unapplyable event is parked, later events still project, ready stays 200 with the parked count shown, a retry after the fix applies it once', async () => {
    const figures: Record<string, number | string> = { 'poison events': POISONS, 'oversized address': 1, 'later writes': LATER_WRITES };
    let held = '';
    const probes: number[] = [];
    let probing = true;
    let prober: Promise<void> | undefined;
    try {
      const env = { DATABASE_URL: database.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir };
      const cli = (...args: string[]) => runCli(args, env);
      const created = await cli('create-main', '--friendly-name', 'Poisoned', '--type', 'Full', '--json');
      expect(created.code).toBe(0);
      const main: Credentials = { sid: JSON.parse(created.stdout).sid, authToken: JSON.parse(created.stdout).auth_token };
      service = startService(env);
      const [, baseUrl] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      const query = async <T>(text: string, values: unknown[] = []) => (await database.pool.query(text, values)).rows as T[];

      const sub = await send(baseUrl, '/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: 'target' } });
      expect(sub.kind === 'response' && sub.status).toBe(201);
      const subSid = (sub as { json: { sid: string } }).json.sid;

      const ready = async () => {
        const o = await send(baseUrl, '/health/ready', { timeoutMs: 10_000 });
        return { status: o.kind === 'response' ? o.status : 0, body: o.kind === 'response' ? o.json : undefined, text: describeOutcome(o) };
      };
      prober = (async () => {
        while (probing) {
          probes.push((await ready()).status);
          await sleep(PROBE_INTERVAL_MS);
        }
      })();

      // The rule, then the events it refuses and the oversized address, straight into the log.
      await query(`ALTER TABLE audit_history ADD CONSTRAINT short_names CHECK (length(event_data #>> '{friendly_name,updated}') <= 64) NOT VALID`);
      const store = new EventStore(database.db);
      const stream = `account-${subSid}`;
      let version = 1;
      let previous = 'target';
      for (let i = 0; i < POISONS; i++) {
        const name = `${i}-${'n'.repeat(100)}`;
        await store.append(stream, [{ type: 'AccountRenamed', data: { previous, friendlyName: name }, metadata: { actorType: 'account', actorSid: main.sid, source: 'api' } }], version++);
        previous = name;
      }
      const forwarded = randomBytes(2250).toString('base64');
      await store.append(
        stream,
        [{ type: 'AccountRenamed', data: { previous, friendlyName: 'spoofed' }, metadata: { actorType: 'account', actorSid: main.sid, source: 'api', sourceIp: forwarded } }],
        version++,
      );
      await store.signal.drain();
      const poisonIds = (await query<{ event_id: string }>(`SELECT event_id FROM events WHERE stream_id = $1 AND length(data->>'friendlyName') > 64 ORDER BY global_position`, [stream])).map((r) => r.event_id);
      expect(poisonIds).toHaveLength(POISONS);
      // The service's own writes decide on the log; its inline read-model write needs the row where the log left it.
      await waitUntil('the accounts projection applied the direct appends', async () => (await query<{ version: number }>('SELECT version FROM account_read_model WHERE sid = $1', [subSid]))[0]?.version === version, 30_000);

      for (let i = 0; i < LATER_WRITES; i++) {
        const o = await send(baseUrl, `/2010-04-01/Accounts/${subSid}.json`, { as: main, body: { FriendlyName: `later-${i}` } });
        expect(describeOutcome(o)).toMatch(/^200 /);
      }
      const auditedLater = async () =>
        Number((await query<{ n: string }>(`SELECT count(*) AS n FROM audit_history WHERE resource_sid = $1 AND event_data #>> '{friendly_name,updated}' LIKE 'later-%'`, [subSid]))[0].n);
      await waitUntil('the later writes are audited', async () => (await auditedLater()) === LATER_WRITES, 60_000);
      figures['later events audited'] = await auditedLater();

      const spoofed = await query<{ source_ip_address: string | null }>(`SELECT source_ip_address FROM audit_history WHERE event_data #>> '{friendly_name,updated}' = 'spoofed'`);
      expect(spoofed).toEqual([{ source_ip_address: null }]);

      const shown = await ready();
      expect(shown.status).toBe(200);
      expect(shown.body.details.projections).toMatchObject({ status: 'up', audit: { lag_events: 0, parked_events: POISONS } });
      figures['parked shown by /health/ready'] = shown.body.details.projections.audit.parked_events;
      const metrics = await send(baseUrl, '/metrics');
      expect(metrics.kind === 'response' && metrics.text).toMatch(new RegExp(`^projection_parked_events\\{projection="audit"\\} ${POISONS}$`, 'm'));
      const parked = JSON.parse((await cli('projections', 'parked', 'audit', '--json')).stdout) as { event_id: string; error_code: string }[];
      expect(parked.map((p) => [p.event_id, p.error_code])).toEqual(poisonIds.map((id) => [id, '23514']));
      expect(JSON.parse((await cli('projections', 'parked', '--json')).stdout)).toHaveLength(POISONS); // no other projection parked anything

      // Before the fix: still failing, still parked.
      const early = await cli('projections', 'retry', 'audit', '--json');
      expect(early.code).toBe(1);
      expect((JSON.parse(early.stdout) as { outcome: string }[]).every((o) => o.outcome === 'failed')).toBe(true);

      await query('ALTER TABLE audit_history DROP CONSTRAINT short_names'); // the fix
      const retried = await cli('projections', 'retry', 'audit', '--json');
      expect(retried.code).toBe(0);
      expect((JSON.parse(retried.stdout) as { outcome: string }[]).map((o) => o.outcome)).toEqual(poisonIds.map(() => 'applied'));
      figures.retried = POISONS;
      const again = await cli('projections', 'retry', 'audit', '--json');
      expect(JSON.parse(again.stdout)).toEqual([]);
      const rowsPerPoison = await query<{ event_id: string; n: string }>(
        `SELECT e.id AS event_id, (SELECT count(*) FROM audit_history a WHERE a.event_id = e.id) AS n FROM unnest($1::uuid[]) AS e(id)`,
        [poisonIds],
      );
      expect(rowsPerPoison.map((r) => Number(r.n))).toEqual(poisonIds.map(() => 1));
      const cleared = await ready();
      expect(cleared.body.details.projections.audit.parked_events).toBe(0);

      // The rebuilt table is the live one: nothing parked, nothing applied twice or missing.
      const auditRows = async () => (await query<{ sid: string; source_ip_address: string | null }>('SELECT sid, source_ip_address FROM audit_history ORDER BY sid'));
      const before = await auditRows();
      const rebuilt = await cli('projections', 'rebuild', 'audit', '--json');
      expect(rebuilt.code).toBe(0);
      expect(JSON.parse(rebuilt.stdout).parked).toEqual([]);
      expect(await auditRows()).toEqual(before);

      probing = false;
      await prober;
      figures['ready probes'] = probes.length;
      figures['ready non-200'] = probes.filter((s) => s !== 200).length;
      expect(probes.filter((s) => s !== 200)).toEqual([]);
      held = 'poison parked, later events audited, ready 200 throughout with the parked count, metric and CLI show it; retry before the fix kept it parked, after it applied each once; oversized address stored as null; rebuild unchanged';
    } finally {
      probing = false;
      await prober?.catch(() => undefined);
      recordResult({ item: 10, title: 'Poison event', figures, held });
    }
  }, byProfile({ ci: 120_000, full: 300_000 }));
});
