import { QueryBus } from '@nestjs/cqrs';
import { fold, VerifyReadModelQuery, type Account, type AccountEvent } from '@accountable/accounts';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';
import { send, describeOutcome, type Credentials, type Outcome } from './support/http';
import { byProfile, random, SEED } from './support/profile';
import { recordResult } from './support/results';

const ROUNDS = byProfile({ ci: 5, full: 100 });
const COMMANDS = 100;

interface Command {
  i: number;
  as: Credentials;
  form: Record<string, string>;
  key?: string;
  outcome?: Outcome;
}

interface StoredEvent {
  stream_version: number;
  type: string;
  data: any;
  recorded_at: Date;
}

/**
 * 100 conflicting commands at once on one account, through HTTP: renames by the owner and by the
 * account itself, status changes by the owner, both at once, and some sent twice at the same time
 * under one Idempotency-Key. Every round, on a fresh subaccount: all are acknowledged; the stream's
 * versions are 1..N with no gap; every acknowledged change is in the log exactly once and each
 * answer shows its own write; each status change's `previous` is the status it replaced (no lost
 * update); the read model equals the fold of the log. At the end `verify --json` on the database.
 */
describe('races: concurrent conflicting commands on one account', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { DB_POOL_MAX: '20' } });
  });
  afterAll(() => t?.close());

  it(`${ROUNDS} rounds × ${COMMANDS} concurrent commands: contiguous versions, read model = fold, nothing lost`, async () => {
    const rand = random(SEED);
    const figures = { rounds: 0, 'concurrent commands/round': COMMANDS, 'requests sent': 0, 'events checked': 0, seed: SEED };
    let held = '';
    try {
      const main = await t.createMain('Races', 'Full');
      const mainCreds = { sid: main.sid, authToken: main.authToken };
      for (let round = 0; round < ROUNDS; round++) {
        const created = await send(t.baseUrl, '/2010-04-01/Accounts.json', { as: mainCreds, body: { FriendlyName: `race-${round}` } });
        expect(describeOutcome(created)).toMatch(/^201 /);
        const sub: Credentials = { sid: (created as any).json.sid, authToken: (created as any).json.auth_token };
        const path = `/2010-04-01/Accounts/${sub.sid}.json`;

        const commands: Command[] = [];
        for (let i = 0; i < COMMANDS; i++) {
          const dice = rand();
          const name = `r${round}-c${i}`;
          const status = rand() < 0.5 ? 'active' : 'suspended';
          if (dice < 0.45) commands.push({ i, as: mainCreds, form: { FriendlyName: name } });
          else if (dice < 0.6) commands.push({ i, as: sub, form: { FriendlyName: name } });
          else if (dice < 0.85) commands.push({ i, as: mainCreds, form: { Status: status } });
          else commands.push({ i, as: mainCreds, form: { FriendlyName: name, Status: status } });
          if (rand() < 0.3) commands[i].key = `race-${SEED}-${round}-${i}`;
        }
        // About a tenth of the owner's keyed commands go out twice at the same moment: one change, two identical answers.
        const twins = commands.filter((c) => c.key && c.as === mainCreds && rand() < 0.35).map((c) => ({ ...c }));
        const all = [...commands, ...twins].sort(() => rand() - 0.5);
        // The subaccount can suspend itself only through its owner; while suspended its own credentials
        // are refused (401). Its renames are then expected to be refused, nothing else.
        await Promise.all(
          all.map(async (c) => {
            c.outcome = await send(t.baseUrl, path, {
              as: c.as,
              body: c.form,
              headers: c.key ? { 'Idempotency-Key': c.key } : {},
            });
          }),
        );
        figures['requests sent'] += all.length;

        const events = (
          await t.database.pool.query<StoredEvent>(
            `SELECT stream_version::int AS stream_version, type, data, recorded_at FROM events WHERE stream_id = $1 ORDER BY stream_version`,
            [`account-${sub.sid}`],
          )
        ).rows;
        figures['events checked'] += events.length;
        const context = `seed ${SEED}, round ${round}`;

        // Versions contiguous, and the stream row agrees.
        expect({ context, versions: events.map((e) => e.stream_version) }).toEqual({ context, versions: events.map((_, i) => i + 1) });
        const streamVersion = (await t.database.pool.query<{ v: number }>(`SELECT version::int AS v FROM streams WHERE stream_id = $1`, [`account-${sub.sid}`]))
          .rows[0].v;
        expect(streamVersion).toBe(events.length);

        // Every answer: 200, or 401 for the subaccount's own credentials while it was suspended.
        const unexpected = all.filter((c) => {
          const o = c.outcome!;
          if (o.kind !== 'response') return true;
          if (o.status === 200) return false;
          return !(c.as === sub && o.status === 401 && o.json?.code === 20003);
        });
        expect({ context, unexpected: unexpected.map((c) => `${c.i} ${JSON.stringify(c.form)}: ${describeOutcome(c.outcome!)}`) }).toEqual({ context, unexpected: [] });
        const acknowledged = all.filter((c) => c.outcome!.kind === 'response' && (c.outcome as any).status === 200);

        // Each answer shows its own write.
        for (const c of acknowledged) {
          const body = (c.outcome as any).json;
          if (c.form.FriendlyName !== undefined) expect({ context, i: c.i, name: body.friendly_name }).toEqual({ context, i: c.i, name: c.form.FriendlyName });
          if (c.form.Status !== undefined) expect({ context, i: c.i, status: body.status }).toEqual({ context, i: c.i, status: c.form.Status });
        }
        // Twins under one key: identical answers.
        for (const twin of twins) {
          const first = commands[twin.i];
          expect({ context, key: twin.key, twin: (twin.outcome as any).text }).toEqual({ context, key: twin.key, twin: (first.outcome as any).text });
        }

        // Nothing lost, nothing doubled: every acknowledged rename is in the log exactly once, and nothing else is.
        const renamed = events.filter((e) => e.type === 'AccountRenamed').map((e) => e.data.friendlyName as string);
        const acknowledgedNames = [...new Set(acknowledged.filter((c) => c.form.FriendlyName !== undefined).map((c) => c.form.FriendlyName))];
        expect({ context, renamed: [...renamed].sort() }).toEqual({ context, renamed: [...acknowledgedNames].sort() });

        // No lost update: each event's `previous` is what the fold says it replaced.
        let state: Account | null = null;
        for (const e of events) {
          if (e.type === 'AccountRenamed') expect({ context, v: e.stream_version, previous: e.data.previous }).toEqual({ context, v: e.stream_version, previous: state!.friendlyName });
          if (e.type === 'AccountStatusChanged') expect({ context, v: e.stream_version, previous: e.data.previous }).toEqual({ context, v: e.stream_version, previous: state!.status });
          state = fold([{ type: e.type, data: e.data, recordedAt: e.recorded_at } as AccountEvent & { recordedAt: Date }], state) as Account;
        }
        const statusRequests = acknowledged.filter((c) => c.form.Status !== undefined).length;
        expect(events.filter((e) => e.type === 'AccountStatusChanged').length).toBeLessThanOrEqual(statusRequests);

        // The read model (inline writes and the projection racing) equals the fold.
        const row = (await t.database.pool.query(`SELECT * FROM account_read_model WHERE sid = $1`, [sub.sid])).rows[0];
        expect({ context, friendly_name: row.friendly_name, status: row.status, version: Number(row.version), date_updated: row.date_updated.getTime() }).toEqual({
          context,
          friendly_name: state!.friendlyName,
          status: state!.status,
          version: state!.version,
          date_updated: state!.updatedAt!.getTime(),
        });
        const fetched = await send(t.baseUrl, path, { as: mainCreds });
        expect((fetched as any).json).toMatchObject({ friendly_name: state!.friendlyName, status: state!.status });
        figures.rounds = round + 1;
      }

      // The whole database: verify in process, then the CLI as an operator would run it.
      const report = await t.app.get(QueryBus).execute(new VerifyReadModelQuery());
      expect(report.drifts).toEqual([]);
      await t.drainProjections();
      const cli = await runCli(['verify', '--json'], {
        DATABASE_URL: t.database.url,
        ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!,
        DATA_DIR: t.runtime.config.DATA_DIR,
      });
      expect({ code: cli.code, stderr: cli.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, drift: [], accounts_checked: ROUNDS + 1 });
      // Every event is audited once the projection has caught up.
      const audit = await t.database.pool.query<{ events: number; rows: number }>(
        `SELECT (SELECT count(*)::int FROM events WHERE type <> 'SubaccountAdded') AS events, (SELECT count(*)::int FROM audit_history) AS rows`,
      );
      expect(audit.rows[0].rows).toBe(audit.rows[0].events);
      held = 'all acknowledged; versions 1..N, each change once, answers show own write, read model = fold, verify ok';
    } finally {
      recordResult({ item: 1, title: 'Races (HTTP, one account)', figures, held });
    }
  }, byProfile({ ci: 120_000, full: 1_200_000 }));
});
