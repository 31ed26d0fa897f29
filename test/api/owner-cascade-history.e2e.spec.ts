import { CommandBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import {
  AccountRepository,
  type AccountCommand,
  MainAccountOperationCommand,
  OPERATOR,
  OwnerCascadeProcessManager,
  type AccountRecord,
} from '@accountable/accounts';
import { EventStore, CheckpointStore, ProjectionRunner } from '@accountable/event-store';
import { ProjectorService } from '@accountable/platform';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor, eventCount, settle, streamEvents, waitFor, type Credentials } from './accounts-api.helpers';

/**
 * A lagging owner cascade (its projector stopped here, run by settle()) applies each cause to the
 * owner as it was at that cause: the subaccounts open at the cause's version, and nothing for a
 * suspension or reactivation that a later owner status change has overtaken. Replaying the whole
 * history from a reset checkpoint then changes nothing.
 */
describe('Owner cascade: a late cascade applies each cause to the owner as it was then', () => {
  let t: TestApp;
  let commands: CommandBus;

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.get(ProjectorService).runner.stop();
    commands = t.app.get(CommandBus);
  });
  afterAll(() => t.close());

  const create = (main: Credentials, friendlyName: string) => clientFor(t, main).api.v2010.accounts.create({ friendlyName });
  const suspend = (main: AccountRecord) => commands.execute(new MainAccountOperationCommand(main.sid, 'suspend', OPERATOR));
  const reactivate = (main: AccountRecord) => commands.execute(new MainAccountOperationCommand(main.sid, 'reactivate', OPERATOR));
  const cascaded = async (sid: string) =>
    (await streamEvents(t, sid)).filter((e) => e.metadata.source === 'system').map((e) => `${e.type} ${String(e.data.status ?? e.data.type)}`);
  const readModel = async () => (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(t.database.db)).rows;
  const audit = async () => (await sql`SELECT * FROM audit_history ORDER BY sid`.execute(t.database.db)).rows;

  it('a suspension the owner’s reactivation overtook before the cascade ran reaches no subaccount, and the reactivation restores none', async () => {
    const main = await t.createMain('Overtaken', 'Full');
    const s1 = await create(main, 's1');
    await settle(t);
    await suspend(main);
    await reactivate(main);
    // Created after the suspension ended: it never existed while its owner was suspended.
    const s2 = await create(main, 's2');
    await settle(t);

    expect(await cascaded(s1.sid)).toEqual([]);
    expect(await cascaded(s2.sid)).toEqual([]);
    for (const sub of [s1, s2]) expect((await clientFor(t, main).api.v2010.accounts(sub.sid).fetch()).status).toBe('active');
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM audit_history WHERE resource_sid IN (${s1.sid}, ${s2.sid}) AND event_data::text LIKE '%owner_%'`.execute(t.database.db);
    expect(rows[0].n).toBe(0);
  });

  it('an owner reactivated while its suspension cascades stops it at the next subaccount; the reactivation restores only the one it reached', async () => {
    const main = await t.createMain('Overtaken mid-way', 'Full');
    const subs = [await create(main, 'x'), await create(main, 'y'), await create(main, 'z')];
    await settle(t);
    await suspend(main);
    // The operator reactivates right after the cascade's first follow-up has committed.
    const repository = t.app.get(AccountRepository);
    const racing: AccountRepository = Object.create(repository);
    let reactivated = false;
    racing.execute = async <T,>(command: AccountCommand<T>): Promise<T> => {
      let wrote = false;
      const result = await repository.execute({
        ...command,
        decide: async (accounts, executor) => {
          const decision = await command.decide(accounts, executor);
          wrote = decision.changes.some((change) => change.events.length > 0);
          return decision;
        },
      });
      if (wrote && !reactivated) {
        reactivated = true;
        await reactivate(main);
      }
      return result;
    };
    const cascade = new OwnerCascadeProcessManager(racing, t.app.get(EventStore));
    const runner = new ProjectionRunner(t.runtime.db, t.app.get(EventStore), [cascade], { connectionString: t.runtime.databaseUrl });
    // The feed holds back commits while an older transaction runs anywhere on the server (other
    // test files share it), so one catch-up can find nothing yet: run it until the race happened.
    await waitFor(async () => {
      await runner.catchUp(cascade);
      return reactivated;
    });
    await settle(t);
    expect(reactivated).toBe(true);
    expect(await cascaded(subs[0].sid)).toEqual(['AccountStatusChanged suspended', 'AccountStatusChanged active']);
    for (const sub of subs.slice(1)) expect(await cascaded(sub.sid)).toEqual([]);
  });

  it('a reset owner-cascade checkpoint replays the whole history harmlessly', async () => {
    // Two suspension cycles cascaded as they happened, subaccounts created between and after them,
    // a subaccount closed, a Trial owner upgraded: every kind of cause, each against a different
    // set of subaccounts than today's.
    const main = await t.createMain('Replayed', 'Full');
    const s1 = await create(main, 's1');
    const closed = await create(main, 'closed later');
    await settle(t);
    await suspend(main);
    await settle(t);
    await reactivate(main);
    await settle(t);
    const s2 = await create(main, 's2');
    await clientFor(t, main).api.v2010.accounts(closed.sid).update({ status: 'closed' });
    await suspend(main);
    await settle(t);
    await reactivate(main);
    await settle(t);
    const s3 = await create(main, 's3');
    const trial = await t.createMain('Replayed trial', 'Trial');
    const u1 = await create(trial, 'u1');
    await commands.execute(new MainAccountOperationCommand(trial.sid, 'upgrade', OPERATOR));
    await settle(t);
    await clientFor(t, trial).api.v2010.accounts(u1.sid).update({ status: 'closed' });
    const u2 = await create(trial, 'u2');
    await settle(t);
    expect(await cascaded(s1.sid)).toEqual([
      'AccountStatusChanged suspended',
      'AccountStatusChanged active',
      'AccountStatusChanged suspended',
      'AccountStatusChanged active',
    ]);
    expect(await cascaded(s2.sid)).toEqual(['AccountStatusChanged suspended', 'AccountStatusChanged active']);
    expect(await cascaded(closed.sid)).toEqual(['AccountStatusChanged suspended', 'AccountStatusChanged active']);
    expect(await cascaded(u1.sid)).toEqual(['AccountUpgraded Full']);

    const events = await eventCount(t);
    const [rows, entries] = [await readModel(), await audit()];
    const { runner } = t.app.get(ProjectorService);
    await runner.reset(runner.projections.find((p) => p.name === 'owner-cascade')!);
    expect(await new CheckpointStore(t.runtime.db).get('owner-cascade')).toEqual({ transactionId: '0', globalPosition: 0 });
    await settle(t);
    expect(await eventCount(t)).toBe(events);
    expect(await readModel()).toEqual(rows);
    expect(await audit()).toEqual(entries);
    for (const sub of [s3, u2]) expect(await cascaded(sub.sid)).toEqual([]);
  });
});
