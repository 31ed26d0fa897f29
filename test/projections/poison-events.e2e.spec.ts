import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import twilio from 'twilio';
import { EventStore } from '@accountable/event-store';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * A poison event in the running service: the projections park it and go on, `/health/ready`
 * stays 200 and shows the parked count, `/metrics` has it, and the CLI's `projections status`,
 * `parked`, `retry` and `rebuild` show and handle it.
 */
describe('poison events: service, health, metrics and CLI', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let store: EventStore;
  let client: ReturnType<typeof twilio>;
  let longName: { eventId: string; position: number };
  let orphan: { eventId: string; position: number };
  const NAME = 'n'.repeat(100);

  const rowsOf = async (eventId: string) =>
    Number((await sql<{ n: string }>`SELECT count(*) AS n FROM audit_history WHERE event_id = ${eventId}`.execute(t.database.db)).rows[0].n);
  const cli = async (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR };
    store = t.app.get(EventStore);
    const main = await t.createMain('Poisoned', 'Full');
    client = twilio(main.sid, main.authToken);
    client.api.baseUrl = t.baseUrl;
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'before' });

    // A rule added to the read model after the log already held events it refuses: names of
    // more than 64 characters (as an older version allowed). The event carrying one cannot be
    // applied until the rule is relaxed (the fix, below).
    await sql`ALTER TABLE audit_history ADD CONSTRAINT short_names CHECK (length(event_data #>> '{friendly_name,updated}') <= 64) NOT VALID`.execute(t.database.db);
    await store.append(`account-${sub.sid}`, [{ type: 'AccountRenamed', data: { previous: 'before', friendlyName: NAME } }], 1);
    // And one nothing fixes: an update of an account whose creation is nowhere.
    await store.append(`account-AC${randomBytes(16).toString('hex')}`, [{ type: 'AccountRenamed', data: { previous: 'a', friendlyName: 'b' } }], 'no_stream');
    const [renamed, lost] = (await sql<{ event_id: string; global_position: number }>`
      SELECT event_id, global_position FROM events WHERE type = 'AccountRenamed' ORDER BY global_position`.execute(t.database.db)).rows;
    longName = { eventId: renamed.event_id, position: renamed.global_position };
    orphan = { eventId: lost.event_id, position: lost.global_position };
    // Written after them: still projected.
    await client.api.v2010.accounts.create({ friendlyName: 'after' });
    await t.drainProjections();
  });
  afterAll(() => t.close());

  it('the projections went on past them: later events applied, the parked ones recorded', async () => {
    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM audit_history WHERE event_data #>> '{friendly_name,updated}' = 'after'`.execute(t.database.db);
    expect(Number(rows[0].n)).toBe(1);
    const parked = JSON.parse((await cli('projections', 'parked', '--json')).stdout) as { projection: string; event_id: string; error_code: string }[];
    expect(parked.map((p) => [p.projection, p.event_id, p.error_code]).sort()).toEqual(
      [
        ['accounts', orphan.eventId, 'ReadModelDriftError'],
        ['audit', longName.eventId, '23514'],
        ['audit', orphan.eventId, 'AuditOwnerUnknownError'],
      ].sort(),
    );
    const human = await cli('projections', 'parked', 'audit');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(longName.eventId);
    expect(human.stdout).not.toContain('ReadModelDriftError');
  });

  it('/health/ready stays 200 and shows the parked counts; /metrics has them; projections status too', async () => {
    const ready = await fetch(`${t.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { details: { projections: Record<string, unknown> } };
    expect(body.details.projections).toMatchObject({
      status: 'up',
      accounts: { lag_events: 0, parked_events: 1 },
      audit: { lag_events: 0, parked_events: 2 },
      'owner-cascade': { parked_events: 0 },
    });
    const metrics = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^projection_parked_events\{projection="audit"\} 2$/m);
    expect(metrics).toMatch(/^projection_parked_events\{projection="accounts"\} 1$/m);
    const status = JSON.parse((await cli('projections', 'status', '--json')).stdout) as { name: string; parked: number }[];
    expect(Object.fromEntries(status.map((s) => [s.name, s.parked]))).toEqual({ accounts: 1, 'owner-cascade': 0, audit: 2, ledger: 0 });
    expect((await cli('projections', 'status')).stdout).toMatch(/^audit .* 2$/m);
  });

  it('retry: still failing stays parked (exit 1); after the fix, applied exactly once (exit 0); then nothing is left at that position', async () => {
    const before = await cli('projections', 'retry', 'audit', '--json');
    expect(before.code).toBe(1);
    expect((JSON.parse(before.stdout) as { outcome: string }[]).map((o) => o.outcome)).toEqual(['failed', 'failed']);
    expect(await rowsOf(longName.eventId)).toBe(0);

    await sql`ALTER TABLE audit_history DROP CONSTRAINT short_names`.execute(t.database.db); // the fix
    const retried = await cli('projections', 'retry', 'audit', String(longName.position), '--json');
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual([expect.objectContaining({ event_id: longName.eventId, outcome: 'applied' })]);
    expect(await rowsOf(longName.eventId)).toBe(1);

    const again = await cli('projections', 'retry', 'audit', String(longName.position));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no event is parked at position/);
    expect(await rowsOf(longName.eventId)).toBe(1);
    const parked = JSON.parse((await cli('projections', 'parked', 'audit', '--json')).stdout) as { event_id: string; attempts: number }[];
    expect(parked).toEqual([expect.objectContaining({ event_id: orphan.eventId, attempts: 2 })]);
    await t.drainProjections();
    expect(await rowsOf(longName.eventId)).toBe(1);
  });

  it('a rebuild meets the orphan, parks it, says so and finishes; usage mistakes exit 2', async () => {
    const rebuilt = await cli('projections', 'rebuild', 'audit');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/1 event\(s\) could not be applied and are parked/);
    expect(rebuilt.stdout).toContain(orphan.eventId);
    expect(await rowsOf(longName.eventId)).toBe(1);
    const parked = JSON.parse((await cli('projections', 'parked', '--json')).stdout) as { projection: string; event_id: string }[];
    expect(parked.map((p) => [p.projection, p.event_id]).sort()).toEqual([['accounts', orphan.eventId], ['audit', orphan.eventId]].sort());

    expect((await cli('projections', 'retry', 'nope')).code).toBe(2);
    expect((await cli('projections', 'retry', 'audit', 'x1')).code).toBe(2);
    expect((await cli('projections', 'parked', 'nope')).code).toBe(2);
  });
});
