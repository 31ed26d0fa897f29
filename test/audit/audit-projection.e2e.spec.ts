import { CommandBus } from '@nestjs/cqrs';
import {
  MainAccountOperationCommand,
  OPERATOR,
  type AccountRecord,
  AuditHistoryProjection,
} from '@accountable/accounts';
import { EventStore, FEED_START, CheckpointConflictError, ProjectionAdmin, ProjectionRunner, type Projection } from '@accountable/event-store';
import { ProjectorService } from '@accountable/platform';
import { startTestApp, type TestApp } from '../support/test-app';
import { auditableEventCount, auditRows, clientFor, drain, type AuditRow } from './audit.helpers';

/** Every row, every column, in a fixed order: two rebuilds must agree on all of it. */
async function snapshot(t: TestApp): Promise<AuditRow[]> {
  const { rows } = await t.database.pool.query<AuditRow>('SELECT * FROM audit_history ORDER BY sid');
  return rows;
}

async function retryingConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof CheckpointConflictError) || attempt > 20) throw error;
    }
  }
}

describe('AuditHistoryProjection', () => {
  let t: TestApp;
  let main: AccountRecord;
  let sub1: { sid: string };
  let sub2: { sid: string };
  let held: { sid: string };
  const commands = () => t.app.get(CommandBus);

  beforeAll(async () => {
    t = await startTestApp();
    main = await t.createMain('Parent', 'Trial');
    const accounts = clientFor(t, main).api.v2010.accounts;
    sub1 = await accounts.create({ friendlyName: 'first' }); // a Trial main may have one
    await commands().execute(new MainAccountOperationCommand(main.sid, 'upgrade', OPERATOR));
    await drain(t);
    await drain(t);
    sub2 = await accounts.create({ friendlyName: 'second' });
    held = await accounts.create({ friendlyName: 'held' });
    await accounts(held.sid).update({ status: 'suspended' });
    await accounts(sub1.sid).update({ friendlyName: 'first, renamed' });
    await commands().execute(new MainAccountOperationCommand(main.sid, 'suspend', OPERATOR));
    // The first drain runs the cascade (new events), the second audits what it appended.
    await drain(t);
    await drain(t);
  });
  afterAll(() => t.close());

  it('a rename carries the previous and the updated name', async () => {
    const [row] = await auditRows(t, `resource_sid = $1 AND event_data ? 'friendly_name' AND event_type = 'account.updated'`, [sub1.sid]);
    expect(row).toMatchObject({
      account_sid: main.sid,
      event_type: 'account.updated',
      event_data: { friendly_name: { previous: 'first', updated: 'first, renamed' } },
      actor_type: 'account',
      actor_sid: main.sid,
      source: 'api',
    });
    expect(row.request_id).toMatch(/^RQ[0-9a-f]{32}$/);
    expect(row.correlation_id).toBe(row.request_id);
    expect(row.user_agent).toMatch(/twilio-node/);
  });

  it("a main account's suspension: its own row is the operator's, each cascaded child row is caused by it", async () => {
    const [parent] = await auditRows(t, `resource_sid = $1 AND event_data ? 'status'`, [main.sid]);
    expect(parent).toMatchObject({
      actor_type: 'operator',
      actor_sid: null,
      source: 'cli',
      source_ip_address: null,
      causation_id: null,
      event_data: { status: { previous: 'active', updated: 'suspended' } },
    });
    const children = await auditRows(t, 'causation_id = $1', [parent.event_id]);
    expect(children.map((r) => r.resource_sid).sort()).toEqual([sub1.sid, sub2.sid].sort());
    for (const child of children) {
      expect(child).toMatchObject({
        account_sid: main.sid,
        event_type: 'account.updated',
        event_data: { status: { previous: 'active', updated: 'suspended' } },
        actor_type: 'system',
        actor_sid: null,
        source: 'system',
        correlation_id: parent.correlation_id ?? parent.event_id,
      });
      expect(child.description).toMatch(/owner/);
      expect(child.event_date.getTime()).toBeGreaterThanOrEqual(parent.event_date.getTime());
    }
    // Suspended on request before: the cascade left it alone, so it has no caused row.
    expect((await auditRows(t, 'resource_sid = $1 AND causation_id IS NOT NULL', [held.sid]))).toEqual([]);
  });

  it("the owner's upgrade reaches its Trial subaccount as a caused type change", async () => {
    const [upgrade] = await auditRows(t, `resource_sid = $1 AND event_data ? 'type' AND event_type = 'account.updated'`, [main.sid]);
    expect(upgrade.event_data).toEqual({ type: { previous: 'Trial', updated: 'Full' } });
    const children = await auditRows(t, 'causation_id = $1', [upgrade.event_id]);
    expect(children).toHaveLength(1);
    expect(children[0]).toMatchObject({ resource_sid: sub1.sid, event_data: { type: { previous: 'Trial', updated: 'Full' } }, actor_type: 'system' });
  });

  it('reactivation is visible through the API once projected, newest first', async () => {
    await commands().execute(new MainAccountOperationCommand(main.sid, 'reactivate', OPERATOR));
    await drain(t);
    await drain(t);
    const events = await clientFor(t, main).monitor.v1.events.list({ eventType: 'account.updated', limit: 3 });
    const reactivations = events.filter((e) => (e.eventData as any).status?.updated === 'active');
    expect(reactivations.map((e) => e.resourceSid).sort()).toEqual([main.sid, sub1.sid, sub2.sid].sort());
    const parent = reactivations.find((e) => e.resourceSid === main.sid)!;
    expect(parent).toMatchObject({ actorType: 'operator', source: 'cli' });
    for (const child of reactivations.filter((e) => e.resourceSid !== main.sid)) {
      expect(child).toMatchObject({ actorType: 'system', source: 'system', actorSid: null, sourceIpAddress: null });
      expect(child.links.actor).toBeNull();
    }
  });

  it('applies each auditable event exactly once: bookkeeping events produce no row', async () => {
    await drain(t);
    await drain(t);
    const rows = await snapshot(t);
    expect(rows).toHaveLength(await auditableEventCount(t));
    const { rows: unmatched } = await t.database.pool.query(
      `SELECT e.event_id FROM events e LEFT JOIN audit_history a ON a.event_id = e.event_id
        WHERE e.type IN ('MainAccountCreated','SubaccountCreated','AccountRenamed','AccountStatusChanged','AccountUpgraded')
          AND a.sid IS NULL`,
    );
    expect(unmatched).toEqual([]);
    const { rows: bookkeeping } = await t.database.pool.query(
      `SELECT a.sid FROM audit_history a JOIN events e ON e.event_id = a.event_id WHERE e.type IN ('SubaccountAdded', 'SubaccountReleased')`,
    );
    expect(bookkeeping).toEqual([]);
    for (const row of rows) expect(row.sid).toBe(`AE${row.event_id.replace(/-/g, '')}`);
  });

  it('a reset and rebuild reproduces every row exactly', async () => {
    const before = await snapshot(t);
    const runner = t.app.get(ProjectorService).runner;
    const projection = runner.projections.find((p) => p.name === 'audit')!;
    expect(projection).toBeInstanceOf(AuditHistoryProjection);
    await runner.reset(projection);
    await retryingConflicts(() => runner.catchUp(projection));
    await drain(t);
    await drain(t);
    expect(await snapshot(t)).toEqual(before);
  });

  it('rebuilding one event per batch finds every owner from earlier batches', async () => {
    const before = await snapshot(t);
    // Its own checkpoint, so the app's runner (already at the head) stays out of the way.
    const inner = new AuditHistoryProjection();
    const probe: Projection = { name: 'audit-probe', apply: (trx, events) => inner.apply(trx, events), reset: (trx) => inner.reset(trx) };
    const runner = new ProjectionRunner(t.runtime.db, t.app.get(EventStore), [probe], { connectionString: t.runtime.databaseUrl, batchSize: 1 });
    await runner.reset(probe);
    expect(await snapshot(t)).toEqual([]);
    const applied = await runner.catchUp(probe);
    expect(applied).toBeGreaterThan(before.length);
    expect(await snapshot(t)).toEqual(before);
  });

  it('the blue-green rebuild (ProjectionAdmin) reproduces every row', async () => {
    const before = await snapshot(t);
    // As the tables' owner, as an operator runs it: a rebuild creates tables (the service's role cannot).
    await new ProjectionAdmin(t.database.db, t.app.get(EventStore)).rebuild(new AuditHistoryProjection(), 3);
    expect(await snapshot(t)).toEqual(before);
  });

  it('re-applying a batch already applied changes nothing', async () => {
    const before = await snapshot(t);
    const feed = await t.app.get(EventStore).readFeed(FEED_START, 10_000);
    await t.runtime.db.transaction().execute((trx) => new AuditHistoryProjection().apply(trx, feed));
    expect(await snapshot(t)).toEqual(before);
  });
});
