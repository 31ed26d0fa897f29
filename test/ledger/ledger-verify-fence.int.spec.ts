import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { FEED_READER_APPLICATION_NAME } from '@accountable/database';
import { EventStore, ProjectionRunner } from '@accountable/event-store';
import { HeadSigner, LedgerProjection, verifyLedger } from '@accountable/ledger';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * The ledger applies what lies below the feed's fence, which leaves the feed readers' own
 * transactions out (feed_fence(), migration 0020); the snapshot's xmin does not. `ledger verify`
 * run while a projector's batch is open must still cover every leaf the ledger recorded, not
 * report the events past that batch's xid as removed.
 */
describe('ledger verify beside an open projector transaction', () => {
  let t: TestDatabase;
  let projector: pg.Client;

  beforeAll(async () => {
    t = await createTestDatabase();
    projector = new pg.Client({ connectionString: t.url, application_name: FEED_READER_APPLICATION_NAME.projector });
    await projector.connect();
  });
  afterAll(async () => {
    await projector.end().catch(() => undefined);
    await t.destroy();
  });

  it('verifies every leaf recorded, those past the open batch included', async () => {
    const store = new EventStore(t.db);
    const signer = new HeadSigner(randomBytes(32));
    const ledger = new LedgerProjection(signer);
    const runner = new ProjectionRunner(t.db, store, [ledger], { connectionString: t.url });
    await store.append('before-the-batch', [{ type: 'Thing', data: { n: 1 } }], 'no_stream');
    await runner.catchUp(ledger);

    // A projector's batch takes an xid and stays open while more events commit.
    await projector.query('BEGIN');
    await projector.query('SELECT pg_current_xact_id()');
    try {
      for (let k = 0; k < 3; k++) await store.append(`past-the-batch-${k}`, [{ type: 'Thing', data: { k } }], 'no_stream');
      await runner.catchUp(ledger);
      const report = await verifyLedger(t.db, { keyId: signer.keyId, pool: t.pool });
      expect(report).toMatchObject({ ok: true, events: 4, leavesStored: 4, firstDifference: null, problems: [] });
    } finally {
      await projector.query('COMMIT');
    }
  });
});
