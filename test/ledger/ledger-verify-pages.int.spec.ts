import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, ProjectionRunner } from '@accountable/event-store';
import { HeadSigner, LedgerProjection, verifyLedger, type LedgerVerifyReport } from '@accountable/ledger';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { settledHead } from '../projections/rebuild.helpers';

/**
 * `ledger verify` reads the log in pages (one binary COPY each, the next after the last key of the
 * one before) and carries the tree, the stored leaves and the heads across them. However the log
 * is cut — pages across transactions, of one event, of the whole log, one short of it — the report
 * must be the same: the same root, heads and first difference, named by position.
 */
describe('ledger verify over pages cut anywhere', () => {
  let t: TestDatabase;
  let signer: HeadSigner;
  /** Each event's (global position, event id), in feed order. */
  let feed: { gp: number; id: string }[];

  beforeAll(async () => {
    t = await createTestDatabase();
    const store = new EventStore(t.db);
    // Transactions of 1 to 5 events: page bounds fall inside and between them.
    for (let k = 0; k < 12; k++) {
      await store.append(
        `pages-${k}`,
        Array.from({ length: 1 + ((k * 3) % 5) }, (_, n) => ({ type: 'Thing', data: { k, n, text: `event ${k}.${n}` } })),
        'no_stream',
      );
    }
    await settledHead(store);
    signer = new HeadSigner(randomBytes(32));
    const ledger = new LedgerProjection(signer);
    await new ProjectionRunner(t.db, store, [ledger], { connectionString: t.url }).catchUp(ledger);
    feed = (await sql<{ gp: number; id: string }>`SELECT global_position AS gp, event_id::text AS id FROM events ORDER BY transaction_id, global_position`.execute(t.db)).rows.map((r) => ({ gp: Number(r.gp), id: r.id }));
  });
  afterAll(() => t.destroy());

  const verify = (pageSize: number) => verifyLedger(t.db, { keyId: signer.keyId, pool: t.pool, pageSize });

  /** Every cut's report, each equal to that of one page (returned). */
  async function sameEverywhere(): Promise<LedgerVerifyReport> {
    const reference = await verify(10_000);
    const n = reference.events;
    for (const pageSize of [1, 5, 7, n - 1, n, n + 1]) expect({ pageSize, report: await verify(pageSize) }).toEqual({ pageSize, report: reference });
    return reference;
  }

  /** As a superuser can: past the log's immutability trigger. */
  async function tamper(statement: string, ...values: unknown[]): Promise<void> {
    const c = await t.client();
    try {
      await c.query('SET session_replication_role = replica');
      await c.query(statement, values);
    } finally {
      await c.end();
    }
  }

  it('an untouched log: every cut gives the same report, which holds', async () => {
    expect(feed.length).toBeGreaterThan(25);
    const report = await sameEverywhere();
    expect(report).toMatchObject({ ok: true, events: feed.length, leavesStored: feed.length, firstDifference: null, problems: [] });
    expect(report.storedHeadsChecked).toBeGreaterThan(0);
  });

  it('an event changed in a late page is named by its position, by every cut', async () => {
    const at = feed.length - 3;
    await tamper(`UPDATE events SET data = data || '{"n": 99}' WHERE global_position = $1`, feed[at].gp);
    const report = await sameEverywhere();
    expect(report.ok).toBe(false);
    expect(report.firstDifference).toMatchObject({ from: at, to: at, globalPosition: feed[at].gp, eventId: feed[at].id, reason: expect.stringContaining('changed since the ledger recorded it') });
  });

  it('an event removed from the middle: the first position whose event moved, by every cut', async () => {
    const at = 11;
    await tamper('DELETE FROM events WHERE global_position = $1', feed[at].gp);
    const report = await sameEverywhere();
    expect(report.ok).toBe(false);
    expect(report.events).toBe(feed.length - 1);
    expect(report.firstDifference).toMatchObject({ from: at, to: at, globalPosition: feed[at + 1].gp, eventId: feed[at + 1].id });
  });
});
