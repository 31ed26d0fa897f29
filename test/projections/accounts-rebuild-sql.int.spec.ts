import { sql } from 'kysely';
import { EventStore, FEED_START, type FeedPosition, ProjectionAdmin, ProjectionRunner } from '@accountable/event-store';
import { AccountReadModelProjection } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, insertMains, liveRows, rowsOf, settledHead } from './rebuild.helpers';

const SCHEMA = 'accounts_sql_check';
/** The batch path's rows for a range, written by `apply` beside the SQL load's. */
const BATCH_SCHEMA = 'accounts_batch_check';

const sidOf = (c: string) => 'AC' + c.repeat(32);
const stream = (sid: string) => `account-${sid}`;
const created = (sid: string) => ({ type: 'MainAccountCreated', data: { sid, friendlyName: `main ${sid.slice(2, 6)}`, type: 'Trial', authToken: `sealed-${sid}` } });
const renamed = (friendlyName: unknown) => ({ type: 'AccountRenamed', data: { previous: 'x', friendlyName } });
const status = (previous: string, to: string, reason: unknown) => ({ type: 'AccountStatusChanged', data: { previous, status: to, reason } });
const added = (sub: string) => ({ type: 'SubaccountAdded', data: { subaccountSid: sub } });
const released = (sub: string) => ({ type: 'SubaccountReleased', data: { subaccountSid: sub } });

/**
 * The account read model's SQL load (loadRange, used by a rebuild) against its batch path
 * (apply, the live projection): the same rows for every history it takes, and no load at all
 * for a range holding one it cannot say the same for.
 */
describe('accounts rebuild SQL load', () => {
  let t: TestDatabase;
  let store: EventStore;
  let runner: ProjectionRunner;
  const projection = new AccountReadModelProjection();

  beforeEach(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    await appendAccounts(store, 3);
    for (const schema of [SCHEMA, BATCH_SCHEMA]) {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(t.db);
      await sql`CREATE TABLE ${sql.id(schema, 'account_read_model')} (LIKE account_read_model INCLUDING ALL)`.execute(t.db);
    }
  });
  afterEach(() => t.destroy());

  const rowsIn = async (schema: string) => (await sql<Record<string, unknown>>`SELECT * FROM ${sql.id(schema, 'account_read_model')} ORDER BY sid`.execute(t.db)).rows;
  const head = () => settledHead(store);
  const loadAll = async () => projection.loadRange(t.db, SCHEMA, FEED_START, await head());
  const eventCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.db)).rows[0].n);
  const positionOf = async (streamId: string, version: number): Promise<FeedPosition> => {
    const { rows } = await sql<{ transaction_id: string; global_position: number }>`
      SELECT transaction_id, global_position FROM events WHERE stream_id = ${streamId} AND stream_version = ${version}`.execute(t.db);
    return { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position };
  };
  /** `apply` over the feed (after, until], in batches of `batchSize`, into BATCH_SCHEMA. */
  const applyRange = async (after: FeedPosition, until: FeedPosition, batchSize = 7) => {
    const inRange = (e: FeedPosition) => {
      const [a, b] = [BigInt(e.transactionId), BigInt(until.transactionId)];
      return a < b || (a === b && e.globalPosition <= until.globalPosition);
    };
    for (let position = after; ; ) {
      const events = (await store.readFeed(position, batchSize)).filter(inRange);
      if (events.length === 0) return;
      await projection.apply(t.db.withSchema(BATCH_SCHEMA) as never, events);
      position = events[events.length - 1];
    }
  };

  it('gives the live projection’s rows for varied histories', async () => {
    const main = sidOf('a');
    const sub = sidOf('b');
    // Releases before any addition and below zero: the batch path clamps at 0 at each step.
    await store.append(stream(main), [created(main), released(sub), released(sub), added(sub)], 'no_stream');
    await store.append(stream(main), [added(sub), released(sub), released(sub), released(sub), added(sub), added(sub)], 4);
    await store.append(
      stream(sub),
      [{ type: 'SubaccountCreated', data: { sid: sub, ownerAccountSid: main, friendlyName: 'é "q" \\ 😀 {a,b} NULL', type: 'Trial', authToken: 'sealed' } }],
      'no_stream',
    );
    await store.append(stream(sub), [status('active', 'suspended', 'owner_suspended'), renamed('')], 1);
    await store.append(stream(sub), [{ type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } }], 3);
    // A suspension whose reason is of another JSON type, or missing, is no suspension by the owner.
    const odd = sidOf('c');
    await store.append(stream(odd), [created(odd), status('active', 'suspended', 7), renamed('odd')], 'no_stream');
    await store.append(stream(odd), [status('suspended', 'closed', 'owner_suspended'), { type: 'AccountStatusChanged', data: { previous: 'closed', status: 'suspended' } }], 3);
    // Suspended by the owner, last.
    const owned = sidOf('d');
    await store.append(stream(owned), [created(owned), renamed('owned'), status('active', 'suspended', 'owner_suspended')], 'no_stream');
    // The projection sees no event of another type, last in a history; nor account events on another stream.
    await store.append(stream(owned), [{ type: 'AuditNoted', data: {} }], 3);
    await store.append('other-1', [renamed(1), added(sub)], 'no_stream');
    await insertMains(t.db, 40);
    await appendAccounts(store, 2, 1);

    const live = await liveRows(t.db, runner, projection);
    expect(await loadAll()).toBe(await eventCount());
    const loaded = await rowsIn(SCHEMA);
    expect(loaded.length).toBe(3 * 4 + 4 + 40 + 2 * 2);
    expect(loaded).toEqual(live);
    expect(loaded.find((row) => row.sid === main)).toMatchObject({ open_subaccounts: 2, version: 10 });
    expect(loaded.find((row) => row.sid === owned)).toMatchObject({ status: 'suspended', suspended_by_owner: true, version: 3 });
  });

  it('loads up to `until` exactly, and a later range on top when its accounts are all new', async () => {
    const [first] = await appendAccounts(store, 1);
    const middle = await positionOf(stream(first), 3);
    const start = await head();
    await appendAccounts(store, 2);
    await insertMains(t.db, 5);
    const end = await head();

    expect(await projection.loadRange(t.db, SCHEMA, FEED_START, middle)).not.toBeNull();
    await applyRange(FEED_START, middle);
    expect(await rowsIn(SCHEMA)).toEqual(await rowsIn(BATCH_SCHEMA));
    expect((await rowsIn(SCHEMA)).find((row) => row.sid === first)).toMatchObject({ version: 3 });

    // From the middle of an account's history: its row is not this range's to make.
    expect(await projection.loadRange(t.db, SCHEMA, middle, end)).toBeNull();
    await sql`DELETE FROM ${sql.id(SCHEMA, 'account_read_model')}`.execute(t.db);

    const { rows } = await sql<{ n: string }>`
      SELECT count(*) AS n FROM events WHERE (transaction_id, global_position) > (${start.transactionId}::xid8, ${start.globalPosition}::bigint)`.execute(t.db);
    expect(await projection.loadRange(t.db, SCHEMA, FEED_START, start)).not.toBeNull();
    expect(await projection.loadRange(t.db, SCHEMA, start, end)).toBe(Number(rows[0].n));
    // Those accounts are in the table now: loading them again would write them twice.
    expect(await projection.loadRange(t.db, SCHEMA, start, end)).toBeNull();
    await applyRange(middle, end, 5);
    expect(await rowsIn(SCHEMA)).toEqual(await rowsIn(BATCH_SCHEMA));
    expect(await rowsIn(SCHEMA)).toEqual(await liveRows(t.db, runner, projection));
  });

  it.each([
    ['an older schema version', [{ schemaVersion: 0, ...renamed('b') }]],
    ['a field of another JSON type', [renamed(7)]],
    ['a type of another JSON type', [{ type: 'AccountUpgraded', data: { previous: 'Trial', type: true } }]],
    ['a second creation', [{ type: 'SubaccountCreated', data: { sid: 'x', ownerAccountSid: 'y', friendlyName: 'z', type: 'Full', authToken: 't' } }]],
  ])('loads nothing for a range with %s, and the rebuild takes the batch path', async (_what, odd) => {
    const sid = sidOf('f');
    await store.append(stream(sid), [created(sid)], 'no_stream');
    await store.append(stream(sid), odd, 1);

    expect(await loadAll()).toBeNull();
    expect(await rowsIn(SCHEMA)).toEqual([]);

    const live = await liveRows(t.db, runner, projection);
    await new ProjectionAdmin(t.db, store).rebuild(projection, 100);
    expect(await rowsOf(t.db, 'account_read_model')).toEqual(live);
  });

  it.each([
    ['a gap in its versions', [created(sidOf('f')), { type: 'AuditNoted', data: {} }, renamed('b')]],
    ['no creation', [renamed('b'), renamed('c')]],
  ])('loads nothing for an account with %s, where the batch path raises ReadModelDriftError and parks those events', async (_what, history) => {
    await store.append(stream(sidOf('f')), history, 'no_stream');

    expect(await loadAll()).toBeNull();
    expect(await rowsIn(SCHEMA)).toEqual([]);
    const live = await liveRows(t.db, runner, projection);
    const drifted = (await store.readStream(stream(sidOf('f')))).filter((e) => e.type === 'AccountRenamed');
    const result = await new ProjectionAdmin(t.db, store).rebuild(projection, 100);
    expect(result.parked.map((p) => [p.eventId, p.errorCode])).toEqual(drifted.map((e) => [e.eventId, 'ReadModelDriftError']));
    expect(await rowsOf(t.db, 'account_read_model')).toEqual(live);
  });

  it('a rebuild loads in SQL, then applies what arrives meanwhile and above the fence on top', async () => {
    const loads: (number | null)[] = [];
    const probe = new (class extends AccountReadModelProjection {
      override async loadRange(...args: Parameters<AccountReadModelProjection['loadRange']>) {
        const loaded = await super.loadRange(...args);
        loads.push(loaded);
        return loaded;
      }
    })();
    const main = sidOf('9');
    await store.append(stream(main), [created(main), released(main), added(main)], 'no_stream');
    const holder = await t.client();
    let fenced: string | undefined;
    // Right after the rebuild has taken the head it loads up to: updates to accounts it loads in
    // SQL and a new account commit, then, behind an open transaction with an xid (the fence),
    // more updates and another account.
    const racing = new (class extends EventStore {
      override async feedHead(...args: Parameters<EventStore['feedHead']>): Promise<FeedPosition> {
        const position = await super.feedHead(...args);
        if (!fenced) {
          fenced = 'pending';
          await store.append(stream(main), [renamed('meanwhile'), released(main)], 'any');
          await appendAccounts(store, 1, 1);
          await holder.query('BEGIN');
          await holder.query('SELECT pg_current_xact_id()');
          await store.append(stream(main), [released(main), added(main), status('active', 'suspended', 'owner_suspended')], 'any');
          [fenced] = await appendAccounts(store, 1);
        }
        return position;
      }
    })(t.db);
    try {
      await new ProjectionAdmin(t.db, racing).rebuild(probe, 50);
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM account_read_model WHERE owner_account_sid = ${fenced}`.execute(t.db);
      expect(rows[0].n).toBeGreaterThan(1);
    } finally {
      await holder.query('COMMIT');
    }
    expect(loads).toHaveLength(1);
    expect(loads[0]).toBeGreaterThan(0);
    const rebuilt = await rowsOf(t.db, 'account_read_model');
    expect(rebuilt).toEqual(await liveRows(t.db, runner, projection));
    expect(rebuilt.find((row) => (row as { sid: string }).sid === main)).toMatchObject({
      friendly_name: 'meanwhile',
      status: 'suspended',
      suspended_by_owner: true,
      open_subaccounts: 1,
      version: 8,
    });
  });
});
