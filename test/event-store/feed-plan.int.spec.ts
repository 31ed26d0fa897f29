import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore, FEED_START, type FeedPosition } from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

describe('the feed query plan', () => {
  let t: TestDatabase;
  let store: EventStore;
  let logged: Kysely<Database>;
  const captured: CompiledQuery[] = [];
  let positions: FeedPosition[];

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    // Enough rows, in many transactions, that the planner chooses the index on its own merits:
    // no enable_seqscan games.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, s) =>
          store.append(`plan-${batch}-${s}`, Array.from({ length: 50 }, (_, i) => ({ type: 'Filled', data: { i, pad: 'x'.repeat(40) } })), 'no_stream'),
        ),
      );
    }
    await sql`ANALYZE events`.execute(t.db);
    // The feed is fenced by the oldest transaction on the (shared) server: wait for all of it.
    const deadline = Date.now() + 15_000;
    let feed = await store.readFeed(FEED_START, 10_000);
    while (feed.length < 5000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      feed = await store.readFeed(FEED_START, 10_000);
    }
    expect(feed).toHaveLength(5000);
    positions = [FEED_START, ...[feed[2499], feed[4990], feed[4999]].map((e) => ({ transactionId: e.transactionId, globalPosition: e.globalPosition }))];
    // The same pool, logging what it runs: the plan is taken of the SQL readFeed really sends.
    logged = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: t.pool }),
      log: (event) => {
        if (event.level === 'query') captured.push(event.query);
      },
    });
  });
  afterAll(() => t.destroy());

  it.each([
    ['from the start', 0],
    ['from the middle', 1],
    ['near the head', 2],
    ['at the head', 3],
  ])('reads %s through events_feed_idx without sorting', async (_, which) => {
    captured.length = 0;
    await store.readFeed(positions[which], 500, logged);
    expect(captured).toHaveLength(1);
    const query = captured[0];
    expect(query.sql).toMatch(/FROM events/);

    const { rows } = await t.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]);
    const all = nodes(rows[0]['QUERY PLAN'][0].Plan);

    expect(all.filter((n) => /Sort/.test(n['Node Type']))).toEqual([]);
    expect(all.filter((n) => /Seq Scan|Bitmap/.test(n['Node Type']))).toEqual([]);
    expect(all.filter((n) => /Index/.test(n['Node Type'])).map((n) => n['Index Name'])).toEqual(['events_feed_idx']);
  });
});
