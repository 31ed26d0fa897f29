import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import {
  EventStore,
  ProjectionAdmin,
  ProjectionHaltedError,
  ProjectionRunner,
  Upcasters,
  type EventMetadata,
  type Projection,
  type RebuildableProjection,
  type RecordedEvent,
} from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { HeadSigner, LedgerProjection } from '@accountable/ledger';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, liveRows, rowsOf, settledHead } from './rebuild.helpers';

/**
 * Issue 11, poison events: an event a projection cannot apply is parked and the projection goes
 * on; everything else is applied exactly once; a transient failure parks nothing; a retry after
 * the fix applies the event once; rebuilds park the same events instead of failing; the audit
 * projection stores no address that is not an IP address.
 */
describe('poison events', () => {
  let t: TestDatabase;
  let store: EventStore;
  let admin: ProjectionAdmin;

  beforeEach(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    admin = new ProjectionAdmin(t.db, store);
    // No key on purpose: a second application of an event would show as a second row.
    await sql`CREATE TABLE poison_log (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, n integer NOT NULL CONSTRAINT n_not_negative CHECK (n >= 0))`.execute(t.db);
  });
  afterEach(() => t.destroy());

  /** Writes each event's `n`; a negative one breaks the CHECK (23514), `typeError` breaks the code. */
  function logging(name: string, options: { ownTransactions?: boolean; fail?: (event: RecordedEvent) => unknown } = {}): Projection {
    return {
      name,
      ownTransactions: options.ownTransactions,
      async apply(executor, events) {
        for (const event of events) {
          const failure = options.fail?.(event);
          if (failure) throw failure;
          if (event.data.typeError) (event.data as { missing?: { field: string } }).missing!.field.toString();
          // Own transactions make a projection idempotent by contract (Projection.ownTransactions): a batch is redone after a failure.
          if (options.ownTransactions) {
            await sql`INSERT INTO poison_log (event_id, n) SELECT ${event.eventId}, ${event.data.n as number}
                       WHERE NOT EXISTS (SELECT 1 FROM poison_log WHERE event_id = ${event.eventId})`.execute(executor);
          } else await sql`INSERT INTO poison_log (event_id, n) VALUES (${event.eventId}, ${event.data.n as number})`.execute(executor);
        }
      },
      async reset(trx) {
        await sql`DELETE FROM poison_log`.execute(trx);
      },
    };
  }

  const append = async (stream: string, data: Record<string, unknown>[]) => {
    const result = await store.append(stream, data.map((d) => ({ type: 'Thing', data: d })), 'any');
    return store.readStream(stream, { fromVersion: result.nextVersion - data.length + 1 });
  };
  const applied = async () => (await sql<{ event_id: string }>`SELECT event_id FROM poison_log ORDER BY seq`.execute(t.db)).rows.map((r) => r.event_id);
  const catchUp = async (runner: ProjectionRunner, projection: Projection) => {
    await settledHead(store);
    return runner.catchUp(projection);
  };
  const checkpointOf = async (name: string) =>
    (await sql<{ global_position: number }>`SELECT global_position FROM projection_checkpoints WHERE name = ${name}`.execute(t.db)).rows[0]?.global_position;

  it('a batch with one bad event: the others applied once, the bad one parked, the checkpoint past it, later events projected', async () => {
    const projection = logging('poison-batch');
    const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    const events = await append('poison-a', [{ n: 1 }, { n: 2 }, { n: -1 }, { n: 3 }, { typeError: true, n: 9 }, { n: 4 }]);

    expect(await catchUp(runner, projection)).toBe(events.length);

    const good = [0, 1, 3, 5].map((i) => events[i].eventId);
    expect(await applied()).toEqual(good);
    const parked = await admin.listParked('poison-batch');
    expect(parked.map((p) => [p.eventId, p.position.globalPosition, p.eventType, p.errorCode, p.attempts])).toEqual([
      [events[2].eventId, events[2].globalPosition, 'Thing', '23514', 1],
      [events[4].eventId, events[4].globalPosition, 'Thing', 'TypeError', 1],
    ]);
    expect(await checkpointOf('poison-batch')).toBe(events[5].globalPosition);
    const [status] = await admin.status(['poison-batch']);
    expect(status).toMatchObject({ lagEvents: 0, parked: 2 });

    const later = await append('poison-b', [{ n: 5 }]);
    await catchUp(runner, projection);
    expect(await applied()).toEqual([...good, later[0].eventId]);
    expect(await admin.listParked('poison-batch')).toHaveLength(2);
  });

  it('retry: still failing stays parked with the new error; after the fix it applies once and un-parks; again, nothing', async () => {
    const projection = logging('poison-retry');
    const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    const events = await append('poison-r', [{ n: 1 }, { n: -7 }, { n: 2 }]);
    await catchUp(runner, projection);
    const bad = events[1];

    const [first] = await admin.retryParked(projection);
    expect(first).toMatchObject({ eventId: bad.eventId, outcome: 'failed', errorCode: '23514' });
    expect(await admin.listParked('poison-retry')).toEqual([expect.objectContaining({ eventId: bad.eventId, attempts: 2 })]);
    expect(await applied()).toEqual([events[0].eventId, events[2].eventId]);

    await sql`ALTER TABLE poison_log DROP CONSTRAINT n_not_negative`.execute(t.db); // the fix
    expect(await admin.retryParked(projection, bad.globalPosition)).toEqual([expect.objectContaining({ eventId: bad.eventId, outcome: 'applied' })]);
    expect(await admin.listParked('poison-retry')).toEqual([]);
    expect(await admin.retryParked(projection)).toEqual([]);
    expect(await applied()).toEqual([events[0].eventId, events[2].eventId, bad.eventId]);
    // The checkpoint never went back: nothing is delivered twice.
    expect(await catchUp(runner, projection)).toBe(0);
    expect(await applied()).toHaveLength(3);
  });

  it('two retries at once apply the event once', async () => {
    const projection = logging('poison-race');
    const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    const [bad] = await append('poison-race', [{ n: -1 }]);
    await catchUp(runner, projection);
    await sql`ALTER TABLE poison_log DROP CONSTRAINT n_not_negative`.execute(t.db);

    const outcomes = (await Promise.all([admin.retryParked(projection), admin.retryParked(projection), admin.retryParked(projection)])).flat();
    expect(outcomes.filter((o) => o.outcome === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome !== 'applied').every((o) => o.outcome === 'gone')).toBe(true);
    expect(await applied()).toEqual([bad.eventId]);
  });

  it('a projection with its own transactions parks too, and its retry applies', async () => {
    let fixed = false;
    const projection = logging('poison-own', { ownTransactions: true, fail: (e) => !fixed && e.data.bad && new RangeError('no such shape') });
    const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    const events = await append('poison-own', [{ n: 1 }, { n: 2, bad: true }, { n: 3 }]);
    await catchUp(runner, projection);
    expect(await applied()).toEqual([events[0].eventId, events[2].eventId]);
    expect(await admin.listParked('poison-own')).toEqual([expect.objectContaining({ eventId: events[1].eventId, errorCode: 'RangeError' })]);
    fixed = true;
    expect(await admin.retryParked(projection)).toEqual([expect.objectContaining({ outcome: 'applied' })]);
    expect(await applied()).toEqual([events[0].eventId, events[2].eventId, events[1].eventId]);
    expect(await admin.listParked('poison-own')).toEqual([]);
  });

  it('an event no upcaster can lift is parked unapplied; the events around it are applied; a retry still fails', async () => {
    const upcasters = new Upcasters().register('Thing', 0, (data) => {
      if (data.odd) throw new Error('this shape was never supported');
      return data;
    });
    const lifting = new EventStore(t.db, upcasters);
    const projection = logging('poison-upcast');
    const runner = new ProjectionRunner(t.db, lifting, [projection], { connectionString: t.url });
    await lifting.append('poison-u', [{ type: 'Thing', schemaVersion: 0, data: { n: 1 } }, { type: 'Thing', schemaVersion: 0, data: { n: 2, odd: true } }, { type: 'Thing', schemaVersion: 0, data: { n: 3 } }], 'no_stream');
    const events = await store.readStream('poison-u');
    await settledHead(store);
    expect(await runner.catchUp(projection)).toBe(3);
    expect(await applied()).toEqual([events[0].eventId, events[2].eventId]);
    const lifted = new ProjectionAdmin(t.db, lifting);
    expect(await lifted.listParked()).toEqual([expect.objectContaining({ eventId: events[1].eventId, errorCode: 'UnreadableEventError', error: expect.stringContaining('never supported') })]);
    expect(await lifted.retryParked(projection)).toEqual([expect.objectContaining({ outcome: 'failed', errorCode: 'UnreadableEventError' })]);
    expect(await applied()).toHaveLength(2);
  });

  describe('a projection that must not skip an event (neverPark: the ledger) is never parked from', () => {
    it('stops at the batch holding the bad event — nothing of it applied, nothing parked, the checkpoint unmoved — and goes on once the cause is gone', async () => {
      let fixed = false;
      const projection: Projection = { ...logging('never-park', { fail: (e) => !fixed && e.data.bad && new TypeError('cannot read that shape') }), neverPark: true };
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      const events = await append('never-park', [{ n: 1 }, { n: 2, bad: true }, { n: 3 }]);
      await settledHead(store);
      for (let attempt = 0; attempt < 2; attempt++) {
        const failure = await runner.processBatch(projection).catch((error: unknown) => error);
        expect(failure).toBeInstanceOf(ProjectionHaltedError);
        expect(failure).toMatchObject({ projection: 'never-park', message: expect.stringContaining('TypeError: cannot read that shape') });
      }
      expect(await applied()).toEqual([]);
      expect(await admin.listParked()).toEqual([]);
      expect(await checkpointOf('never-park')).toBe(0);
      fixed = true;
      expect(await runner.processBatch(projection)).toBe(3);
      expect(await applied()).toEqual(events.map((e) => e.eventId));
      expect(await admin.listParked()).toEqual([]);
    });

    it('the ledger: an event no upcaster can lift stops it and its rebuild before any leaf, where it used to be parked (a hole in the tree)', async () => {
      const upcasters = new Upcasters().register('Thing', 0, (data) => {
        if (data.odd) throw new Error('this shape was never supported');
        return data;
      });
      const lifting = new EventStore(t.db, upcasters);
      const ledger = new LedgerProjection(new HeadSigner(randomBytes(32)));
      const runner = new ProjectionRunner(t.db, lifting, [ledger], { connectionString: t.url });
      await lifting.append('never-park-u', [{ type: 'Thing', schemaVersion: 0, data: { n: 1 } }, { type: 'Thing', schemaVersion: 0, data: { n: 2, odd: true } }], 'no_stream');
      await settledHead(store);
      await expect(runner.catchUp(ledger)).rejects.toBeInstanceOf(ProjectionHaltedError);
      const lifted = new ProjectionAdmin(t.db, lifting);
      await expect(lifted.rebuild(ledger, 10)).rejects.toBeInstanceOf(ProjectionHaltedError);
      expect(await lifted.listParked()).toEqual([]);
      const { rows } = await sql<{ leaves: number; heads: number }>`
        SELECT (SELECT count(*)::int FROM ledger_leaves) AS leaves, (SELECT count(*)::int FROM ledger_heads) AS heads`.execute(t.db);
      expect(rows[0]).toEqual({ leaves: 0, heads: 0 });
    });
  });

  describe('transient failures are retried as before, never parked', () => {
    it.each([
      ['a statement timeout (57014)', { code: '57014', message: 'canceling statement due to statement timeout' }],
      ['a serialization failure (40001)', { code: '40001', message: 'could not serialize access' }],
      ['a deadlock (40P01)', { code: '40P01', message: 'deadlock detected' }],
      ['a disk full (53100)', { code: '53100', message: 'could not extend file' }],
      ['an administrator shutdown (57P01)', { code: '57P01', message: 'terminating connection due to administrator command' }],
      ['a lost connection', { message: 'Connection terminated unexpectedly' }],
      ['a connection refused', { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }],
      ['a missing privilege (42501: a deploy to fix, not the event)', { code: '42501', message: 'permission denied for table poison_log' }],
    ] as [string, { code?: string; message: string }][])('%s', async (_what, failure) => {
      let failures = 2;
      const projection = logging('poison-transient', { fail: () => failures-- > 0 && Object.assign(new Error(failure.message), failure.code ? { code: failure.code } : {}) });
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      const events = await append('poison-t', [{ n: 1 }, { n: 2 }]);
      await settledHead(store);
      await expect(runner.processBatch(projection)).rejects.toThrow(failure.message);
      await expect(runner.processBatch(projection)).rejects.toThrow(failure.message);
      expect(await admin.listParked()).toEqual([]);
      expect(await checkpointOf('poison-transient')).toBe(0);
      expect(await runner.processBatch(projection)).toBe(2);
      expect(await applied()).toEqual(events.map((e) => e.eventId));
      expect(await admin.listParked()).toEqual([]);
    });

    it('a real statement timeout inside the batch', async () => {
      let slow = true;
      const base = logging('poison-timeout');
      const projection: Projection = {
        ...base,
        async apply(executor, events) {
          if (slow) {
            slow = false;
            await sql`SET LOCAL statement_timeout = '20ms'`.execute(executor);
            await sql`SELECT pg_sleep(1)`.execute(executor);
          }
          await base.apply(executor, events);
        },
      };
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      await append('poison-timeout', [{ n: 1 }]);
      await settledHead(store);
      await expect(runner.processBatch(projection)).rejects.toMatchObject({ code: '57014' });
      expect(await admin.listParked()).toEqual([]);
      expect(await runner.processBatch(projection)).toBe(1);
    });
  });

  describe('the audit projection and addresses already in the log', () => {
    // What a trusted X-Forwarded-For could carry before addresses were checked on the way in.
    const forwarded = randomBytes(2250).toString('base64');
    const longZone = `fe80::1%${'a'.repeat(3000)}`; // isIP says 6: only the length bound refuses it

    async function appendOddAddresses() {
      const main = sid();
      const stream = `account-${main}`;
      const api = (sourceIp: unknown): EventMetadata => ({ actorType: 'account', actorSid: main, source: 'api', sourceIp } as EventMetadata);
      await store.append(stream, [{ type: 'MainAccountCreated', data: { sid: main, friendlyName: 'm', type: 'Full', authToken: 'sealed' }, metadata: api(forwarded) }], 'no_stream');
      await store.append(stream, [{ type: 'AccountRenamed', data: { previous: 'm', friendlyName: 'n' }, metadata: api(longZone) }], 1);
      await store.append(stream, [{ type: 'AccountRenamed', data: { previous: 'n', friendlyName: 'o' }, metadata: api('203.0.113.7') }], 2);
      await store.append(stream, [{ type: 'AccountRenamed', data: { previous: 'o', friendlyName: 'p' }, metadata: api('2001:db8::1') }], 3);
      await store.append(stream, [{ type: 'AccountRenamed', data: { previous: 'p', friendlyName: 'q' }, metadata: api('not an address') }], 4);
      return main;
    }

    it('stores an address only if it is an IP address; nothing is parked; the event keeps what it holds; a rebuild gives the same rows', async () => {
      const projection = new AuditHistoryProjection();
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      const main = await appendOddAddresses();

      const live = await liveRows(t.db, runner, projection);
      expect(await admin.listParked()).toEqual([]);
      const { rows } = await sql<{ source_ip_address: string | null }>`
        SELECT source_ip_address FROM audit_history WHERE resource_sid = ${main} ORDER BY global_position`.execute(t.db);
      expect(rows.map((r) => r.source_ip_address)).toEqual([null, null, '203.0.113.7', '2001:db8::1', null]);
      const [created] = await store.readStream(`account-${main}`, { toVersion: 1 });
      expect(created.metadata.sourceIp).toBe(forwarded);

      const result = await admin.rebuild(projection, 2);
      expect(result.parked).toEqual([]);
      expect(await rowsOf(t.db, 'audit_history')).toEqual(live);
    });

    it('the rebuild’s SQL load says the same as the live projection', async () => {
      const projection = new AuditHistoryProjection();
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      await appendAccounts(store, 1);
      await appendOddAddresses();
      const live = await liveRows(t.db, runner, projection);
      await sql`CREATE SCHEMA odd_addresses`.execute(t.db);
      await sql`CREATE TABLE odd_addresses.audit_history (LIKE audit_history INCLUDING ALL)`.execute(t.db);
      expect(await projection.loadRange(t.db, 'odd_addresses', { transactionId: '0', globalPosition: 0 }, await settledHead(store))).not.toBeNull();
      expect((await sql`SELECT * FROM odd_addresses.audit_history ORDER BY sid`.execute(t.db)).rows).toEqual(live);
    });
  });

  describe('rebuilds park what the live projection parks, and finish', () => {
    it.each([
      ['audit', () => new AuditHistoryProjection(), 'AuditOwnerUnknownError'],
      ['accounts', () => new AccountReadModelProjection(), 'ReadModelDriftError'],
    ] as const)('%s: an update without its creation', async (_name, make, errorCode) => {
      const projection: RebuildableProjection = make();
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      await appendAccounts(store, 1);
      const orphan = `account-${sid()}`;
      const [bad] = await store.append(orphan, [{ type: 'AccountRenamed', data: { previous: 'a', friendlyName: 'b' } }], 'no_stream').then(() => store.readStream(orphan));
      await appendAccounts(store, 1); // after it: still projected

      const live = await liveRows(t.db, runner, projection);
      expect((await admin.listParked(projection.name)).map((p) => [p.eventId, p.errorCode])).toEqual([[bad.eventId, errorCode]]);

      await sql`DELETE FROM projection_parked_events`.execute(t.db); // the rebuild must find it by itself
      const result = await admin.rebuild(projection, 7);
      expect(result.parked.map((p) => [p.eventId, p.position.globalPosition, p.errorCode])).toEqual([[bad.eventId, bad.globalPosition, errorCode]]);
      expect(await rowsOf(t.db, projection.tables[0])).toEqual(live);
      expect((await admin.listParked(projection.name)).map((p) => p.eventId)).toEqual([bad.eventId]);
      const [status] = await admin.status([projection.name]);
      expect(status).toMatchObject({ lagEvents: 0, parked: 1 });
    });

    it('a row over an index’s limit, which only the index built after the load would meet: the rebuild starts again with its indexes first and parks the event', async () => {
      const projection = new AuditHistoryProjection();
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      await appendAccounts(store, 1);
      const odd = sid();
      // An owner sid no command writes: 3,000 random characters, over the B-tree maximum of audit_history_account_idx.
      await store.append(`account-${odd}`, [{ type: 'SubaccountCreated', data: { sid: odd, ownerAccountSid: randomBytes(2250).toString('base64'), friendlyName: 's', type: 'Full', authToken: 'sealed' } }], 'no_stream');
      const [bad] = await store.readStream(`account-${odd}`);
      await appendAccounts(store, 1);

      const live = await liveRows(t.db, runner, projection);
      expect((await admin.listParked('audit')).map((p) => [p.eventId, p.errorCode])).toEqual([[bad.eventId, '54000']]);
      await sql`DELETE FROM projection_parked_events`.execute(t.db);
      const result = await admin.rebuild(projection);
      expect(result.parked.map((p) => [p.eventId, p.errorCode])).toEqual([[bad.eventId, '54000']]);
      expect(await rowsOf(t.db, 'audit_history')).toEqual(live);
      expect((await admin.listParked('audit')).map((p) => p.eventId)).toEqual([bad.eventId]);
    });

    it('events the live projection parked but the rebuild applies are un-parked at its switch', async () => {
      const projection = new AuditHistoryProjection();
      const runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
      await appendAccounts(store, 1);
      await liveRows(t.db, runner, projection);
      const [someEvent] = await store.readFeed({ transactionId: '0', globalPosition: 0 }, 1);
      await sql`
        INSERT INTO projection_parked_events (projection, transaction_id, global_position, event_id, event_type, error)
        VALUES ('audit', ${someEvent.transactionId}::xid8, ${someEvent.globalPosition}, ${someEvent.eventId}, ${someEvent.type}, 'a bug since fixed')`.execute(t.db);
      expect((await admin.rebuild(projection)).parked).toEqual([]);
      expect(await admin.listParked()).toEqual([]);
    });
  });
});

const sid = () => `AC${randomBytes(16).toString('hex')}`;
