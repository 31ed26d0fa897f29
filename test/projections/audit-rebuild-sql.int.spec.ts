import { sql } from 'kysely';
import { EventStore, FEED_START, type EventMetadata, ProjectionAdmin, ProjectionRunner } from '@accountable/event-store';
import { AuditHistoryProjection, STATUS_CHANGE_REASONS } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, liveRows, rowsOf, settledHead } from './rebuild.helpers';

const SCHEMA = 'audit_sql_check';

/**
 * The audit projection's SQL load (loadRange, used by a rebuild) against its batch path (apply,
 * the live projection): the same rows for every event it takes, and no load at all for a range
 * holding an event it cannot say the same for.
 */
describe('audit rebuild SQL load', () => {
  let t: TestDatabase;
  let store: EventStore;
  let runner: ProjectionRunner;
  const projection = new AuditHistoryProjection();

  beforeEach(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    runner = new ProjectionRunner(t.db, store, [projection], { connectionString: t.url });
    await appendAccounts(store, 3);
    await sql`CREATE SCHEMA ${sql.id(SCHEMA)}`.execute(t.db);
    await sql`CREATE TABLE ${sql.id(SCHEMA, 'audit_history')} (LIKE audit_history INCLUDING ALL)`.execute(t.db);
  });
  afterEach(() => t.destroy());

  const sqlRows = async () => (await sql`SELECT * FROM ${sql.id(SCHEMA, 'audit_history')} ORDER BY sid`.execute(t.db)).rows;
  const head = () => settledHead(store);
  const loadAll = async () => projection.loadRange(t.db, SCHEMA, FEED_START, await head());
  const eventCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.db)).rows[0].n);

  it('gives the live projection’s rows, metadata of every shape included', async () => {
    const sid = 'AC' + 'e'.repeat(32);
    const stream = `account-${sid}`;
    const odd: Record<string, unknown> = { actorType: '', actorSid: 42, source: 'api', sourceIp: null, userAgent: 'ü "quoted" \\ back\nslash', requestId: true, correlationId: ['x'], causationId: { a: 1 } };
    await store.append(stream, [{ type: 'MainAccountCreated', data: { sid, friendlyName: 'é "q" \\ 😀', type: 'Trial', authToken: 'sealed' }, metadata: odd as EventMetadata }], 'no_stream');
    await store.append(stream, [{ type: 'AccountRenamed', data: { previous: 'é "q" \\ 😀', friendlyName: '' }, metadata: {} }], 1);
    // Every reason a status change carries: the SQL load's description must say what auditEntryOf says.
    let status = 'active';
    for (const [i, reason] of STATUS_CHANGE_REASONS.entries()) {
      const next = status === 'active' ? 'suspended' : 'active';
      await store.append(stream, [{ type: 'AccountStatusChanged', data: { previous: status, status: next, reason } }], 2 + i);
      status = next;
    }
    // Not on an account stream: not audited, by either path.
    await store.append('other-1', [{ type: 'AccountRenamed', data: { previous: 1, friendlyName: 2 } }], 'no_stream');

    const live = await liveRows(t.db, runner, projection);
    expect(await loadAll()).toBe(await eventCount());
    const loaded = await sqlRows();
    expect(loaded.length).toBeGreaterThan(10);
    expect(loaded).toEqual(live);
  });

  it.each([
    ['an older schema version', { schemaVersion: 0, data: { previous: 'a', friendlyName: 'b' } }],
    ['a field of another JSON type', { data: { previous: 'a', friendlyName: 7 } }],
  ])('loads nothing for a range with %s, and the rebuild takes the batch path', async (_what, odd) => {
    const sid = 'AC' + 'f'.repeat(32);
    const stream = `account-${sid}`;
    await store.append(stream, [{ type: 'MainAccountCreated', data: { sid, friendlyName: 'a', type: 'Trial', authToken: 'sealed' } }], 'no_stream');
    await store.append(stream, [{ type: 'AccountRenamed', ...odd }], 1);

    expect(await loadAll()).toBeNull();
    expect(await sqlRows()).toEqual([]);

    const live = await liveRows(t.db, runner, projection);
    await new ProjectionAdmin(t.db, store).rebuild(projection, 100);
    expect(await rowsOf(t.db, 'audit_history')).toEqual(live);
  });

  it('refuses an update whose creation is not in the table, like the batch path', async () => {
    const until = await head();
    const { rows } = await sql<{ transaction_id: string; global_position: number }>`
      SELECT transaction_id, global_position FROM events WHERE stream_version = 1 ORDER BY transaction_id DESC, global_position DESC LIMIT 1`.execute(t.db);
    // After the last creation: only updates, whose owners are nowhere.
    await expect(projection.loadRange(t.db, SCHEMA, { transactionId: rows[0].transaction_id, globalPosition: rows[0].global_position }, until)).rejects.toMatchObject({
      code: '23502',
    });
  });
});
