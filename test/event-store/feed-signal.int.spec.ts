import { sql } from 'kysely';
import type pg from 'pg';
import { EventStore, FEED_CHANNEL } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('FeedSignal: projectors are woken after a commit, not from inside it', () => {
  let t: TestDatabase;
  let listener: pg.Client;
  let heard: string[];

  beforeAll(async () => {
    t = await createTestDatabase();
    listener = await t.client();
    listener.on('notification', (message) => heard.push(message.payload ?? ''));
    await listener.query(`LISTEN ${FEED_CHANNEL}`);
  });
  afterAll(() => t.destroy());
  beforeEach(() => (heard = []));

  /** Notifications are delivered between the listener's queries: one round trip collects them. */
  async function collect(): Promise<string[]> {
    await listener.query('SELECT 1');
    return heard;
  }

  it('append_to_stream itself sends no notification (its commit would take the NOTIFY lock)', async () => {
    await sql`SELECT * FROM append_to_stream('signal-raw', 'no_stream', NULL, ARRAY[gen_random_uuid()], ARRAY['Thing'],
                ARRAY[1], ARRAY['{}'::jsonb], ARRAY['{}'::jsonb])`.execute(t.db);
    expect(await collect()).toEqual([]);
  });

  it('an append in its own transaction is announced after its commit, with the process origin', async () => {
    const store = new EventStore(t.db);
    const local: number[] = [];
    store.signal.listen(() => local.push(Date.now()));
    await store.append('signal-own', [{ type: 'Thing', data: {} }], 'no_stream');
    expect(local).toHaveLength(1);
    await store.signal.drain();
    expect(await collect()).toEqual([store.signal.origin]);
  });

  it('a burst of commits is coalesced: at least one notification, far fewer than commits', async () => {
    // Forty commits: appends that do not share them (see shared-appends.int.spec.ts for those).
    const store = new EventStore(t.db, undefined, { sharedCommits: { maxInFlight: 40, maxBatch: 1 } });
    let local = 0;
    store.signal.listen(() => local++);
    await Promise.all(Array.from({ length: 40 }, (_, i) => store.append(`signal-burst-${i}`, [{ type: 'Thing', data: { i } }], 'no_stream')));
    await store.signal.drain();
    const notifications = await collect();
    expect(local).toBe(40);
    expect(notifications.length).toBeGreaterThanOrEqual(1);
    expect(notifications.length).toBeLessThan(40);
    expect(new Set(notifications)).toEqual(new Set([store.signal.origin]));
  });

  it("an append inside the caller's transaction is announced only when the caller says it committed", async () => {
    const store = new EventStore(t.db);
    let local = 0;
    store.signal.listen(() => local++);
    await t.db.transaction().execute((trx) => store.append('signal-trx', [{ type: 'Thing', data: {} }], 'no_stream', trx));
    expect(local).toBe(0);
    store.committed();
    expect(local).toBe(1);
    await store.signal.drain();
    expect(await collect()).toEqual([store.signal.origin]);
  });

  it('a failed append announces nothing', async () => {
    const store = new EventStore(t.db);
    let local = 0;
    store.signal.listen(() => local++);
    await store.append('signal-fail', [{ type: 'Thing', data: {} }], 'no_stream');
    await store.signal.drain();
    await collect();
    heard = [];
    local = 0;
    await expect(store.append('signal-fail', [{ type: 'Thing', data: {} }], 'no_stream')).rejects.toThrow();
    await store.signal.drain();
    expect(local).toBe(0);
    expect(await collect()).toEqual([]);
  });
});
