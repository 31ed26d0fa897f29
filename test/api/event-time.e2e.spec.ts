import { randomBytes, randomUUID } from 'node:crypto';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import {
  AccountRepository,
  AccountStateAtQuery,
  ReplayAccountQuery,
  UpdateAccountCommand,
  VerifyReadModelQuery,
  type AccountSnapshot,
  type CommandContext,
  type ReplayStep,
  type VerifyReport,
} from '@accountable/accounts';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor } from './accounts-api.helpers';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Event time against version: a command's event is stamped when it holds its stream's lock, so a
 * command that began first but committed second is the later one in time too, and the read model's
 * date_updated is that time (it never goes backwards). Time travel reads the longest version prefix
 * recorded by the instant, so events stored before that rule (migration 0009), whose times may run
 * back against their versions, never make a state that did not exist; verify names such old
 * inversions as information and any new one as drift.
 */
describe('event times follow versions', () => {
  let t: TestApp;
  let commands: CommandBus;
  let queries: QueryBus;

  beforeAll(async () => {
    t = await startTestApp();
    commands = t.app.get(CommandBus);
    queries = t.app.get(QueryBus);
  });
  afterAll(() => t.close());

  const times = async (sid: string) =>
    (
      await sql<{ v: number; at: Date; exact: string }>`
        SELECT stream_version AS v, recorded_at AS at, recorded_at::text AS exact FROM events WHERE stream_id = ${`account-${sid}`} ORDER BY stream_version`.execute(t.database.db)
    ).rows;
  const row = async (sid: string) =>
    (await sql<{ date_updated: Date; version: number }>`SELECT date_updated, version FROM account_read_model WHERE sid = ${sid}`.execute(t.database.db)).rows[0];

  it('a command that began before another and committed after it gets the later time, and date_updated moves forward to it', async () => {
    const main = await t.createMain('Clock', 'Full');
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'start' });
    const context: CommandContext & { actorSid: string } = { actorType: 'account', actorSid: main.sid, source: 'api' };
    let afterB: { date_updated: Date; version: number } | undefined;
    // A reads (and so has its time), then B runs and commits before A's commit: A's commit finds
    // the stream moved, and A reads and decides again, with a time no earlier than B's.
    let attempts = 0;
    await t.app.get(AccountRepository).execute({
      reads: [sub.sid],
      context,
      decide: async (accounts) => {
        if (attempts++ === 0) {
          await pause(30);
          await commands.execute(new UpdateAccountCommand(sub.sid, { friendlyName: 'B' }, context));
          afterB = await row(sub.sid);
        }
        const state = accounts.get(sub.sid)!;
        return { changes: [{ sid: sub.sid, events: [{ type: 'AccountRenamed', data: { previous: state.friendlyName, friendlyName: 'A' } }] }], result: () => undefined };
      },
    });
    expect(attempts).toBe(2);
    const [, b, a] = await times(sub.sid);
    expect(a.exact >= b.exact).toBe(true);
    const afterA = await row(sub.sid);
    expect(afterA.version).toBe(afterB!.version + 1);
    expect(afterA.date_updated.getTime()).toBeGreaterThanOrEqual(afterB!.date_updated.getTime());
    // The read model's time is the event's own, to the millisecond.
    expect(afterA.date_updated.getTime()).toBe(a.at.getTime());
    expect(afterB!.date_updated.getTime()).toBe(b.at.getTime());
    const report = await queries.execute(new VerifyReadModelQuery());
    expect(report.drifts.filter((d: { sid: string }) => d.sid === sub.sid)).toEqual([]);
  });

  describe('events stored before migration 0009, with times running back against versions', () => {
    const sid = `AC${randomBytes(16).toString('hex')}`;
    const t0 = Date.parse('2026-03-01T10:00:00.000Z');
    const at = (ms: number) => new Date(t0 + ms).toISOString();

    beforeAll(async () => {
      // v2 (the suspension) at +30 ms, v3 (the rename) at +10 ms: what two commands that queued on
      // the lock used to store. Inserted as the table's owner, as the old append did.
      const insert = (v: number, type: string, data: object, ms: number) => sql`
        INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata, recorded_at)
        VALUES (${`account-${sid}`}, ${v}, ${randomUUID()}, ${type}, ${JSON.stringify(data)}::jsonb, '{"actorType":"operator","source":"cli"}', ${at(ms)}::timestamptz)`;
      await t.database.db.transaction().execute(async (trx) => {
        await insert(1, 'MainAccountCreated', { sid, friendlyName: 'old name', type: 'Full', authToken: t.runtime.keyring.seal(randomBytes(16).toString('hex'), sid) }, 0).execute(trx);
        await insert(2, 'AccountStatusChanged', { previous: 'active', status: 'suspended', reason: 'operator' }, 30).execute(trx);
        await insert(3, 'AccountRenamed', { previous: 'old name', friendlyName: 'new name' }, 10).execute(trx);
        await sql`INSERT INTO streams (stream_id, version, created_at, updated_at) VALUES (${`account-${sid}`}, 3, ${at(0)}::timestamptz, ${at(10)}::timestamptz)`.execute(trx);
      });
      await t.drainProjections();
    });

    const stateAt = (asOf: string): Promise<AccountSnapshot | null> => queries.execute(new AccountStateAtQuery(sid, { asOf: new Date(asOf) }));

    it('state --as-of is the longest version prefix recorded by the instant: never v3 on top of v1', async () => {
      expect(await stateAt(at(-1))).toBeNull();
      expect(await stateAt(at(0))).toMatchObject({ friendly_name: 'old name', status: 'active', version: 1 });
      // v3 is stamped +10 but follows v2 (+30): at +20 the account was still at version 1.
      expect(await stateAt(at(20))).toMatchObject({ friendly_name: 'old name', status: 'active', version: 1 });
      expect(await stateAt(at(30))).toMatchObject({ friendly_name: 'new name', status: 'suspended', version: 3 });
      // Replay shows every event in version order with its own time, as stored.
      const steps: ReplayStep[] = await queries.execute(new ReplayAccountQuery(sid));
      expect(steps.map((s) => [s.version, s.recorded_at])).toEqual([
        [1, at(0)],
        [2, at(30)],
        [3, at(10)],
      ]);
    });

    it('verify reports an inversion stamped before the clock rule as information, and one stamped after it as drift', async () => {
      await sql`UPDATE event_clock SET monotonic_after_position = (SELECT max(global_position) FROM events)`.execute(t.database.db);
      let report: VerifyReport = await queries.execute(new VerifyReadModelQuery());
      expect(report.drifts).toEqual([]);
      expect(report.oldTimeInversions).toEqual([{ sid, version: 3, recordedAt: at(10), previousRecordedAt: at(30) }]);
      const cli = await runCli(['verify', '--json'], { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR });
      expect(cli.code).toBe(0);
      expect(JSON.parse(cli.stdout)).toMatchObject({ ok: true, drift: [], old_time_inversions: [{ sid, version: 3, recorded_at: at(10), previous_recorded_at: at(30) }] });

      // Past the boundary, an event that runs back in time can only be a fault: drift.
      const append = (v: number, friendlyName: string, ms: number) => sql`
        INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata, recorded_at)
        VALUES (${`account-${sid}`}, ${v}, ${randomUUID()}, 'AccountRenamed', ${JSON.stringify({ previous: 'x', friendlyName })}::jsonb, '{}', ${at(ms)}::timestamptz)`;
      await append(4, 'newer', 40).execute(t.database.db);
      await append(5, 'newest', 35).execute(t.database.db);
      await sql`UPDATE streams SET version = 5 WHERE stream_id = ${`account-${sid}`}`.execute(t.database.db);
      await t.drainProjections();
      report = await queries.execute(new VerifyReadModelQuery());
      expect(report.drifts).toEqual([{ sid, field: 'recorded_at', expected: `at or after ${at(40)} (version 4)`, actual: `${at(35)} (version 5)` }]);
      expect(report.oldTimeInversions).toHaveLength(1);
    });
  });

  it('verify names a stream the domain cannot fold (a second creation) as drift, and goes on with the others', async () => {
    const bad = `AC${randomBytes(16).toString('hex')}`;
    const good = await t.createMain('Still checked', 'Full');
    await t.database.db.transaction().execute(async (trx) => {
      const created = (v: number) => sql`
        INSERT INTO events (stream_id, stream_version, event_id, type, data, metadata, recorded_at)
        VALUES (${`account-${bad}`}, ${v}, ${randomUUID()}, 'MainAccountCreated',
                ${JSON.stringify({ sid: bad, friendlyName: 'twice', type: 'Full', authToken: t.runtime.keyring.seal(randomBytes(16).toString('hex'), bad) })}::jsonb,
                '{"actorType":"operator","source":"cli"}', now())`;
      await created(1).execute(trx);
      await created(2).execute(trx);
      await sql`INSERT INTO streams (stream_id, version, created_at, updated_at) VALUES (${`account-${bad}`}, 2, now(), now())`.execute(trx);
    });
    // The row of another account is changed behind the log's back: verify must still get to it.
    await sql`UPDATE account_read_model SET friendly_name = 'edited' WHERE sid = ${good.sid}`.execute(t.database.db);
    const report: VerifyReport = await queries.execute(new VerifyReadModelQuery());
    expect(report.drifts).toEqual(
      expect.arrayContaining([
        { sid: bad, field: '(events)', expected: 'a stream the domain can fold', actual: expect.stringContaining('MainAccountCreated') },
        expect.objectContaining({ sid: good.sid, field: 'friendly_name', actual: 'edited' }),
      ]),
    );
  });
});
