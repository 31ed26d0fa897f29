import { sql } from 'kysely';
import { AccountEventType, AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { EventStore, FEED_START } from '@accountable/event-store';
import { ACCOUNT_SQL_LOAD } from '../../libs/accounts/src/read-models/account/account-read-model.projection';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, settledHead } from './rebuild.helpers';

const SCHEMA = 'sql_load_declines';

/**
 * The rebuilds' SQL loads decline by default: a range holding an event type they do not list
 * loads nothing (null), so the rebuild takes the batch path rather than skipping the event.
 */
describe('SQL loads decline what they do not know', () => {
  let t: TestDatabase;
  let store: EventStore;

  beforeEach(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    await appendAccounts(store, 2);
    await sql`CREATE SCHEMA ${sql.id(SCHEMA)}`.execute(t.db);
    for (const table of ['account_read_model', 'audit_history']) {
      await sql`CREATE TABLE ${sql.id(SCHEMA, table)} (LIKE ${sql.id(table)} INCLUDING ALL)`.execute(t.db);
    }
  });
  afterEach(() => t.destroy());

  const loaded = async (table: string) => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.id(SCHEMA, table)}`.execute(t.db)).rows[0].n);

  it('the account read model: an event type missing from its list', async () => {
    const sid = 'AC' + 'd'.repeat(32);
    await store.append(`account-${sid}`, [{ type: 'MainAccountCreated', data: { sid, friendlyName: 'a', type: 'Trial', authToken: 'sealed' } }], 'no_stream');
    await store.append(`account-${sid}`, [{ type: 'AccountUpgraded', data: { previous: 'Trial', type: 'Full' } }], 1);
    const projection = new AccountReadModelProjection();
    const fields = ACCOUNT_SQL_LOAD[AccountEventType.AccountUpgraded];
    delete ACCOUNT_SQL_LOAD[AccountEventType.AccountUpgraded];
    try {
      expect(await projection.loadRange(t.db, SCHEMA, FEED_START, await settledHead(store))).toBeNull();
      expect(await loaded('account_read_model')).toBe(0);
    } finally {
      ACCOUNT_SQL_LOAD[AccountEventType.AccountUpgraded] = fields;
    }
    // Listed again, the same range loads.
    expect(await projection.loadRange(t.db, SCHEMA, FEED_START, await settledHead(store))).not.toBeNull();
    expect(await loaded('account_read_model')).toBeGreaterThan(0);
  });

  it('the audit: an unknown event type on an account stream', async () => {
    const sid = 'AC' + 'd'.repeat(32);
    await store.append(`account-${sid}`, [{ type: 'MainAccountCreated', data: { sid, friendlyName: 'a', type: 'Trial', authToken: 'sealed' } }], 'no_stream');
    const projection = new AuditHistoryProjection();
    const known = await settledHead(store);
    await store.append(`account-${sid}`, [{ type: 'AccountNoted', data: { note: 'a type no path knows' } }], 1);
    expect(await projection.loadRange(t.db, SCHEMA, FEED_START, await settledHead(store))).toBeNull();
    expect(await loaded('audit_history')).toBe(0);
    // The range before it loads.
    expect(await projection.loadRange(t.db, SCHEMA, FEED_START, known)).not.toBeNull();
    expect(await loaded('audit_history')).toBeGreaterThan(0);
  });
});
