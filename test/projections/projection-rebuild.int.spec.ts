import { sql } from 'kysely';
import { EventStore, type FeedPosition, ProjectionAdmin, ProjectionRunner, type RebuildableProjection } from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { appendAccounts, insertMains, liveRows, rowsOf } from './rebuild.helpers';

/** The blue-green rebuild (ProjectionAdmin) of both projections against the live projection. */
describe('projection rebuild', () => {
  let t: TestDatabase;
  let store: EventStore;
  let runner: ProjectionRunner;
  const projections: RebuildableProjection[] = [new AccountReadModelProjection(), new AuditHistoryProjection()];

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    runner = new ProjectionRunner(t.db, store, projections, { connectionString: t.url });
    await appendAccounts(store, 12);
  });
  afterAll(() => t.destroy());

  describe.each(projections.map((p) => [p.name, p] as const))('%s', (_name, projection) => {
    const [table] = projection.tables;

    it.each([1, 7, 5000])('gives the live projection’s rows, in batches of %i', async (batchSize) => {
      const live = await liveRows(t.db, runner, projection);
      expect(live.length).toBeGreaterThan(0);
      await new ProjectionAdmin(t.db, store).rebuild(projection, batchSize);
      expect(await rowsOf(t.db, table)).toEqual(live);
      // The runner carries on from the rebuild's checkpoint, changing nothing.
      expect(await liveRowsFrom(projection)).toEqual(live);
    });

    it('includes events appended while it loads', async () => {
      let appended: Promise<unknown> | undefined;
      // New accounts commit right after the rebuild has taken the head it loads up to.
      const racing = new (class extends EventStore {
        override async feedHead(...args: Parameters<EventStore['feedHead']>): Promise<FeedPosition> {
          const head = await super.feedHead(...args);
          if (!appended) {
            appended = appendAccounts(store, 2);
            await appended;
          }
          return head;
        }
      })(t.db);
      const before = (await rowsOf(t.db, table)).length;
      await new ProjectionAdmin(t.db, racing).rebuild(projection, 20);
      expect(appended).toBeDefined();
      const rebuilt = await rowsOf(t.db, table);
      expect(rebuilt.length).toBeGreaterThan(before);
      expect(rebuilt).toEqual(await liveRows(t.db, runner, projection));
    });

    it('includes events committed above the feed’s fence, and the runner applies them again harmlessly', async () => {
      // An open transaction with an xid holds the fence below everything appended after it.
      const holder = await t.client();
      await holder.query('BEGIN');
      await holder.query('SELECT pg_current_xact_id()');
      try {
        const [main] = await appendAccounts(store, 1);
        await new ProjectionAdmin(t.db, store).rebuild(projection, 50);
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM ${sql.table(table)}
           WHERE ${sql.ref(table === 'audit_history' ? 'account_sid' : 'owner_account_sid')} = ${main}`.execute(t.db);
        expect(rows[0].n).toBeGreaterThan(1);
      } finally {
        await holder.query('COMMIT');
      }
      const rebuilt = await rowsOf(t.db, table);
      expect(await liveRowsFrom(projection)).toEqual(rebuilt);
      expect(await liveRows(t.db, runner, projection)).toEqual(rebuilt);
    });

    it('readers never see an empty, partial or missing table', async () => {
      const expected = (await liveRows(t.db, runner, projection)).length;
      const reader = await t.client();
      // Which table (its oid) each read saw and how many rows it had. Parameterised, as the
      // service's queries are (extended protocol).
      const read = async () =>
        (await reader.query<{ oid: number | null; n: string }>(`SELECT min(tableoid::int) AS oid, count(*) AS n FROM ${table} WHERE sid <> $1`, [''])).rows[0];
      const seen: { oid: number | null; n: string }[] = [];
      let reading = true;
      const reads = (async () => {
        while (reading) seen.push(await read());
      })();
      try {
        await new ProjectionAdmin(t.db, store).rebuild(projection, 10);
      } finally {
        reading = false;
        await reads;
      }
      seen.push(await read());
      expect(new Set(seen.map((r) => Number(r.n)))).toEqual(new Set([expected]));
      // The reads began on the old table and end on the new one.
      expect(seen[0].oid).not.toBe(seen[seen.length - 1].oid);
    });

    it('waits out a long reader holding the table, retrying its switch', async () => {
      const live = await rowsOf(t.db, table);
      const reader = await t.client();
      await reader.query('BEGIN');
      await reader.query(`SELECT count(*) FROM ${table}`);
      const rebuilt = new ProjectionAdmin(t.db, store).rebuild(projection, 1000);
      // Hold the table until the switch has queued behind the reader at least once, then a little longer.
      for (;;) {
        const { rows } = await sql<{ waiting: boolean }>`
          SELECT EXISTS (
            SELECT 1 FROM pg_locks
             WHERE database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND relation = ${table}::regclass AND mode = 'AccessExclusiveLock' AND NOT granted
          ) AS waiting`.execute(t.db);
        if (rows[0].waiting) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await reader.query('COMMIT');
      await rebuilt;
      expect(await rowsOf(t.db, table)).toEqual(live);
    });
  });

  it('a batch far beyond the 65,535 parameters of one multi-row insert', async () => {
    await insertMains(t.db, 6000);
    for (const projection of projections) {
      const live = await liveRows(t.db, runner, projection);
      await new ProjectionAdmin(t.db, store).rebuild(projection, 10_000);
      expect(await rowsOf(t.db, projection.tables[0])).toEqual(live);
    }
  });

  /** What the runner makes of the feed from the current checkpoint on, without a reset. */
  async function liveRowsFrom(projection: RebuildableProjection): Promise<unknown[]> {
    await runner.catchUp(projection);
    return rowsOf(t.db, projection.tables[0]);
  }
});
