import { sql } from 'kysely';
import { AccountReadModelProjection, AuditHistoryProjection, SCHEMA_VERSION, type AccountEventType } from '@accountable/accounts';
import { EventStore, FEED_START, type RebuildableProjection } from '@accountable/event-store';
import { ACCOUNT_SQL_LOAD } from '../../libs/accounts/src/read-models/account/account-read-model.projection';
import { AUDIT_SQL_LOAD } from '../../libs/accounts/src/read-models/audit/audit-history.projection';
import { EVERY_EVENT_TYPE, MAIN, sampleOf } from '../support/account-event-samples';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { settledHead } from './rebuild.helpers';

/** The SQL load's tables, and the TypeScript projection's (apply), side by side. */
const SQL_SCHEMA = 'load_sql';
const TS_SCHEMA = 'load_ts';

/**
 * For every account event type, a stream holding it: the rebuilds' SQL loads (loadRange) against
 * the projections' TypeScript (apply, the definitions evolveAccountRow and auditEntryOf) row by
 * row, account rows, api_keys and audit entries. A type a load lists gives the same rows; one it
 * declines makes it load nothing (null), and the TypeScript path has the rows.
 */
describe.each(EVERY_EVENT_TYPE)('the SQL loads against the TypeScript projections, for %s', (type: AccountEventType) => {
  let t: TestDatabase;
  let store: EventStore;

  beforeEach(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    for (const schema of [SQL_SCHEMA, TS_SCHEMA]) {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(t.db);
      for (const table of ['account_read_model', 'api_keys', 'audit_history']) {
        await sql`CREATE TABLE ${sql.id(schema, table)} (LIKE ${sql.id('public', table)} INCLUDING ALL)`.execute(t.db);
      }
    }
    const { sid, before, event } = sampleOf(type);
    const api = { actorType: 'account', actorSid: MAIN, source: 'api', sourceIp: '203.0.113.9', userAgent: 'every-type', correlationId: 'c0ffee' };
    // The subaccount sample's owner exists, as it would.
    if (sid !== MAIN) await store.append(`account-${MAIN}`, [{ ...sampleOf('MainAccountCreated').event, metadata: api }], 'no_stream');
    await store.append(`account-${sid}`, [...before, event].map((e) => ({ ...e, schemaVersion: SCHEMA_VERSION[e.type], metadata: api }) as never), 'no_stream');
  });
  afterEach(() => t.destroy());

  const tableIn = async (schema: string, table: string) => (await sql`SELECT * FROM ${sql.id(schema, table)} ORDER BY sid`.execute(t.db)).rows;

  async function compare(projection: RebuildableProjection, declined: boolean): Promise<void> {
    const head = await settledHead(store);
    const events = await store.readFeed(FEED_START, 1_000);
    await t.db.transaction().execute((trx) => projection.apply(trx.withSchema(TS_SCHEMA) as never, events));
    const loaded = await projection.loadRange!(t.db, SQL_SCHEMA, FEED_START, head);
    for (const table of projection.tables) {
      const fromTs = await tableIn(TS_SCHEMA, table);
      const fromSql = await tableIn(SQL_SCHEMA, table);
      if (declined) {
        expect({ type, loaded, fromSql }).toEqual({ type, loaded: null, fromSql: [] });
      } else {
        expect({ type, loaded }).toEqual({ type, loaded: events.length });
        expect({ type, table, rows: fromSql }).toEqual({ type, table, rows: fromTs });
      }
    }
    // Either way the TypeScript path has made rows: a declined range is not an empty one.
    expect((await tableIn(TS_SCHEMA, projection.tables[0])).length).toBeGreaterThan(0);
  }

  it('account_read_model and api_keys', async () => {
    await compare(new AccountReadModelProjection(), ACCOUNT_SQL_LOAD[type] === 'declined');
  });

  it('audit_history', async () => {
    await compare(new AuditHistoryProjection(), AUDIT_SQL_LOAD[type] === 'declined');
  });
});
