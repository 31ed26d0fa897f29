import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { EventStore, ProjectionRunner } from '@accountable/event-store';
import { BinaryEventEncoder, COPY_EVENT_COLUMNS, FEED_START, HeadSigner, LedgerProjection, copyOut, readLogPage, verifyLedger, type LedgerVerifyReport } from '@accountable/ledger';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { settledHead } from '../projections/rebuild.helpers';

/**
 * `ledger verify` reads the log in pages, several at once on as many connections (`readers`), and
 * walks them in feed order. However the log is cut — pages across transactions, of one event, of
 * the whole log — the report must be the one a single stream gives: the same root, heads and first
 * difference, named by position.
 */
describe('ledger verify over pages read at once', () => {
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

  const verify = (readers: number, pageSize: number) => verifyLedger(t.db, { keyId: signer.keyId, pool: t.pool, readers, pageSize });
  /** (readers, page size): one stream as the reference first, then awkward cuts. */
  const cuts = (events: number): [number, number][] => [
    [2, 7],
    [3, 5],
    [4, 1],
    [2, events - 1],
    [2, events],
    [3, events + 1],
  ];

  /** Every cut's report, each equal to the single stream's (returned). */
  async function sameEverywhere(): Promise<LedgerVerifyReport> {
    const reference = await verify(1, 10_000);
    for (const [readers, pageSize] of cuts(reference.events)) expect({ readers, pageSize, report: await verify(readers, pageSize) }).toEqual({ readers, pageSize, report: reference });
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

  it('an untouched log: every cut gives the single stream\'s report, which holds', async () => {
    expect(feed.length).toBeGreaterThan(25);
    const report = await sameEverywhere();
    expect(report).toMatchObject({ ok: true, events: feed.length, leavesStored: feed.length, firstDifference: null, problems: [] });
    expect(report.storedHeadsChecked).toBeGreaterThan(0);
  });

  it('readLogPage reads every event within its bounds, beyond its page size (a log grown since the bounds were found)', async () => {
    const encoder = new BinaryEventEncoder();
    const last = await sql<{ tx: string; gp: number }>`SELECT transaction_id::text AS tx, global_position AS gp FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1`.execute(t.db);
    const page = await readLogPage(t.pool, encoder, FEED_START, { tx: last.rows[0].tx, gp: Number(last.rows[0].gp) }, 4);
    const single: string[] = [];
    await copyOut(t.pool, `COPY (SELECT ${COPY_EVENT_COLUMNS} FROM events ORDER BY transaction_id, global_position) TO STDOUT (FORMAT binary)`, (tuple) => single.push(encoder.leafHash(tuple).toString('hex')));
    expect(page.rows).toBe(feed.length);
    expect(Array.from({ length: page.rows }, (_, r) => page.hashes.toString('hex', 32 * r, 32 * r + 32))).toEqual(single);
    expect(Array.from(page.positions.subarray(0, page.rows))).toEqual(feed.map((e) => e.gp));
  });

  it('an event changed in a later page is named by its position, by every cut', async () => {
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
