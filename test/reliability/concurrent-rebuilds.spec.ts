import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { EventStore, type FeedPosition, ProjectionAdmin, ProjectionRunner, type RebuildableProjection } from '@accountable/event-store';
import { AccountReadModelProjection, AuditHistoryProjection } from '@accountable/accounts';
import { appendAccounts, liveRows, rowsOf } from '../projections/rebuild.helpers';
import { startCli } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { byProfile, random, SEED } from './support/profile';
import { recordResult } from './support/results';

/** Where a rebuild is held while a second one starts: every boundary between its phases. */
const PHASES = ['before its load', 'after its load', 'before its switch', 'inside its switch'] as const;
type Phase = (typeof PHASES)[number];

const MAINS = byProfile({ ci: 12, full: 120 });
/** ci: each phase of the first rebuild once, the second held at a phase chosen by the seed; full: every pair. */
const pick = random(SEED);
const PAIRS: [Phase, Phase][] = byProfile({
  ci: PHASES.map((first) => [first, PHASES[Math.floor(pick() * 3)]] as [Phase, Phase]),
  full: PHASES.flatMap((first) => PHASES.slice(0, 3).map((second) => [first, second] as [Phase, Phase])),
});
const KILLS = byProfile({ ci: 1, full: 4 });

interface Settled {
  ok: boolean;
  error?: Error;
}

const settle = (promise: Promise<unknown>): Promise<Settled> => promise.then(
  () => ({ ok: true }),
  (error: Error) => ({ ok: false, error }),
);

/**
 * Two rebuilds of one projection at once. An operator's retry, or two operators, are enough; the
 * windows are widened here on purpose: the first rebuild is held at each boundary between its
 * phases (through its own event store and projection, so the rebuild code is the one that ships)
 * while the second starts and runs as far as it gets, held in turn at a phase of its own. A reader
 * counts the live table all along. Whatever the interleaving: the live table is never empty nor
 * partial, the second rebuild is refused at once naming the projection, the first completes with
 * the rows a rebuild from scratch gives, and nothing of either is left behind. Then rebuilds killed
 * with SIGKILL mid-way (a crashed operator's CLI): the live table stays whole and the next rebuild
 * clears what the dead one left.
 */
describe('concurrent rebuilds', () => {
  let t: TestDatabase;
  let store: EventStore;
  let runner: ProjectionRunner;
  let dataDir: string;
  const projections: RebuildableProjection[] = [new AccountReadModelProjection(), new AuditHistoryProjection()];

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new EventStore(t.db);
    runner = new ProjectionRunner(t.db, store, projections, { connectionString: t.url });
    await appendAccounts(store, MAINS);
    for (const projection of projections) await liveRows(t.db, runner, projection);
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-rebuilds-'));
  });
  afterAll(async () => {
    await t?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Tables in any schema a rebuild may have made (today's per-rebuild schemas and the fixed ones of earlier versions). */
  const leftovers = async () =>
    (
      await sql<{ name: string }>`
        SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname LIKE 'rebuild%' AND c.relkind IN ('r', 'p') ORDER BY 1`.execute(t.db)
    ).rows.map((r) => r.name);

  /** Counts the live table until stopped; every count it saw. */
  function countContinuously(table: string) {
    const seen: number[] = [];
    let reading = true;
    const done = (async () => {
      const reader = await t.client();
      while (reading) {
        seen.push(Number((await reader.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    return {
      seen,
      async stop() {
        reading = false;
        await done;
        return seen;
      },
    };
  }

  /**
   * A rebuild of `projection` that stops at `phase` (if any) until released. Held inside its
   * switch, it has just applied an event appended for the purpose, with the live tables locked.
   */
  function heldRebuild(projection: RebuildableProjection, phase: Phase | undefined) {
    let reach!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (reach = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const hold = async (at: Phase) => {
      if (at !== phase) return;
      reach();
      await released;
    };
    let heads = 0;
    let switching = false;
    const held = new (class extends EventStore {
      override async feedHead(...args: Parameters<EventStore['feedHead']>): Promise<FeedPosition> {
        const head = await super.feedHead(...args);
        // The first is the head it loads up to; the second, the catch-up before its first switch attempt.
        if (++heads === 2) {
          await hold('before its switch');
          if (phase === 'inside its switch') {
            await appendMain(store);
            switching = true;
          }
        }
        return head;
      }
    })(t.db);
    const wrapped: RebuildableProjection = {
      name: projection.name,
      tables: projection.tables,
      applyIndexes: projection.applyIndexes,
      async apply(executor, events) {
        if (switching) {
          switching = false;
          await hold('inside its switch');
        }
        await projection.apply(executor, events);
      },
      reset: (trx) => projection.reset(trx),
      async loadRange(db, schema, after, until) {
        await hold('before its load');
        const loaded = await projection.loadRange!(db, schema, after, until);
        await hold('after its load');
        return loaded;
      },
    };
    const run = settle(new ProjectionAdmin(t.db, held).rebuild(wrapped, 100));
    return { reached, release, run };
  }

  it(`${PAIRS.length} interleavings × accounts and audit, then ${KILLS + 1} SIGKILLs each: the live table is never emptied nor swapped with a partial shadow`, async () => {
    const figures = {
      projections: projections.length,
      interleavings: PAIRS.length,
      'rebuilds started': 0,
      'refused at once': 0,
      SIGKILLs: 0,
      'leftover tables cleared': 0,
      'live counts sampled': 0,
      events: 0,
      seed: SEED,
    };
    let held = '';
    try {
      for (const projection of projections) await interleavings(projection, figures);
      for (const projection of projections) await kills(projection, figures);
      figures.events = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.db)).rows[0].n);
      held = 'second refused at once, naming the projection; live table never empty or partial; first = fresh fold; a killed rebuild changed nothing and its leftovers were cleared';
    } finally {
      recordResult({ item: 11, title: 'Concurrent rebuilds', figures, held });
    }
  }, 900_000);

  type Figures = Record<'rebuilds started' | 'refused at once' | 'SIGKILLs' | 'leftover tables cleared' | 'live counts sampled', number>;

  async function interleavings(projection: RebuildableProjection, figures: Figures): Promise<void> {
    const [table] = projection.tables;
    for (const [first, second] of PAIRS) {
      const where = `${projection.name}: second rebuild started while the first was held ${first} (the second held ${second})`;
      // Caught up first: an account appended inside an earlier switch may not be in this projection yet.
      const before = (await liveRows(t.db, runner, projection)).length;
      const counts = countContinuously(table);
      const a = heldRebuild(projection, first);
      figures['rebuilds started']++;
      const aEarly = await Promise.race([a.reached.then(() => undefined), a.run]);
      expect({ where, settledBeforeItsPhase: aEarly }).toEqual({ where, settledBeforeItsPhase: undefined });
      const b = heldRebuild(projection, second);
      figures['rebuilds started']++;
      // Unchanged code could block the second behind the first's locks: give up waiting after a while.
      await Promise.race([b.reached, b.run, new Promise((resolve) => setTimeout(resolve, 3000))]);
      a.release();
      const aDone = await a.run;
      b.release();
      const bDone = await b.run;
      const seen = await counts.stop();
      figures['live counts sampled'] += seen.length;

      // Never empty, never partial: the rows it had, or those plus the one account appended inside the switch.
      const expectedCounts = new Set(first === 'inside its switch' ? [before, before + 1] : [before]);
      expect({ where, unexpectedCounts: [...new Set(seen.filter((n) => !expectedCounts.has(n)))] }).toEqual({ where, unexpectedCounts: [] });
      expect({ where, first: aDone.ok ? 'completed' : aDone.error?.message }).toEqual({ where, first: 'completed' });
      expect({ where, second: bDone.error?.name, message: bDone.error?.message }).toEqual({
        where,
        second: 'RebuildInProgressError',
        message: expect.stringContaining(`"${projection.name}"`),
      });
      figures['refused at once']++;
      expect({ where, leftovers: await leftovers() }).toEqual({ where, leftovers: [] });
      const rebuilt = await rowsOf(t.db, table);
      expect({ where, rows: rebuilt.length }).toEqual({ where, rows: Math.max(...expectedCounts) });
      // The rows a rebuild from scratch gives (the live runner, reset and caught up).
      expect({ where, same: equal(rebuilt, await liveRows(t.db, runner, projection)) }).toEqual({ where, same: true });
      // The lock went with the first rebuild: the next one runs.
      figures['rebuilds started']++;
      expect((await settle(new ProjectionAdmin(t.db, store).rebuild(projection, 100))).error).toBeUndefined();
    }
  }

  /**
   * The CLI's rebuild killed: at a random moment once it has made its shadow, and, last, while it
   * waits for its switch behind a reader (everything loaded, its lock held).
   */
  async function kills(projection: RebuildableProjection, figures: Figures): Promise<void> {
    const [table] = projection.tables;
    const rand = random(SEED + projection.name.length);
    const env = { DATABASE_URL: t.url, READ_DATABASE_URL: undefined, DATA_DIR: dataDir, ENCRYPTION_KEY: randomBytes(32).toString('hex') };
    const expected = await liveRows(t.db, runner, projection);
    for (let kill = 0; kill <= KILLS; kill++) {
      const waitingForSwitch = kill === KILLS;
      const where = `${projection.name}: kill ${kill + 1}${waitingForSwitch ? ' (waiting for its switch)' : ''}`;
      const blocker = waitingForSwitch ? await t.client() : undefined;
      await blocker?.query('BEGIN');
      await blocker?.query(`SELECT count(*) FROM ${table}`);
      const counts = countContinuously(table);
      const cli = startCli(['projections', 'rebuild', projection.name, '--batch-size', '50', '--json'], env);
      let exited = false;
      void cli.result.then(() => (exited = true));
      figures['rebuilds started']++;
      if (waitingForSwitch) {
        await until(async () => {
          const { rows } = await sql<{ waiting: boolean }>`
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE relation = ${table}::regclass AND mode = 'AccessExclusiveLock' AND NOT granted) AS waiting`.execute(t.db);
          return rows[0].waiting;
        });
      } else {
        await until(async () => exited || (await leftovers()).length > 0);
        await new Promise((resolve) => setTimeout(resolve, rand() * 300));
      }
      cli.child.kill('SIGKILL');
      figures.SIGKILLs++;
      await cli.result;
      await blocker?.query('COMMIT');
      await blocker?.end();
      const left = (await leftovers()).length;
      // The dead CLI's server sessions end once they notice; until then its lock refuses a new rebuild.
      await until(async () => {
        figures['rebuilds started']++;
        const next = await settle(new ProjectionAdmin(t.db, store).rebuild(projection, 100));
        if (!next.ok && next.error?.name !== 'RebuildInProgressError') throw next.error;
        return next.ok;
      });
      figures['leftover tables cleared'] += left;
      const seen = await counts.stop();
      figures['live counts sampled'] += seen.length;
      expect({ where, unexpectedCounts: [...new Set(seen.filter((n) => n !== expected.length))] }).toEqual({ where, unexpectedCounts: [] });
      expect({ where, leftovers: await leftovers() }).toEqual({ where, leftovers: [] });
      expect({ where, same: equal(await rowsOf(t.db, table), expected) }).toEqual({ where, same: true });
    }
  }
});

/** One account created by one event: one more row in each projection's table. */
async function appendMain(store: EventStore): Promise<void> {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  await store.append(
    `account-${sid}`,
    [{ type: 'MainAccountCreated', data: { sid, friendlyName: 'appended mid-switch', type: 'Full', authToken: `sealed-${sid}` }, metadata: { actorType: 'operator', source: 'cli' } }],
    'no_stream',
  );
}

const equal = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
