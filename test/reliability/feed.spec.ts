import { randomBytes, randomUUID } from 'node:crypto';
import { QueryBus } from '@nestjs/cqrs';
import { sql } from 'kysely';
import { fold, VerifyReadModelQuery, type Account, auditEntryOf } from '@accountable/accounts';
import { EventStore, WrongExpectedVersionError, type NewEvent, ProjectionRunner, type Projection, type RunnerLogger } from '@accountable/event-store';
import { startTestApp, type TestApp } from '../support/test-app';
import { send, describeOutcome, waitUntil, type Credentials } from './support/http';
import { byProfile, random, SEED } from './support/profile';
import { recordResult } from './support/results';

const ROUNDS = byProfile({ ci: 3, full: 10 });
const WRITERS = 8;
const OPERATIONS = byProfile({ ci: 25, full: 40 });

class Rollback extends Error {}

interface Tracked {
  committed: Set<string>;
  rolledBack: Set<string>;
}

/**
 * The gap-safe feed under random concurrent writers, with the service's own projections running
 * (accounts, owner cascade, audit) and a counting projection beside them that has no key on the
 * event id, so a second delivery would show as a second row. Writers mix HTTP commands (creates,
 * renames, status changes, inline read-model writes), raw appends in slow transactions that hold
 * their transaction id open, rolled-back appends (also of account events and of whole phantom
 * accounts), idempotent re-appends, and appends to streams the account projections ignore. The
 * counting runner is restarted mid-round and a second runner races it for leadership.
 *
 * After each round: every committed event projected exactly once, none of the rolled-back ones, in
 * stream order; the read model equals the fold of the log (including raw events only the
 * projection could apply); the audit history holds exactly the auditable committed events.
 */
describe('feed: concurrent writers with the projections running', () => {
  let t: TestApp;
  let store: EventStore;

  beforeAll(async () => {
    t = await startTestApp({ env: { PROJECTION_POLL_MS: '50' } });
    store = new EventStore(t.database.db);
    await sql`
      CREATE TABLE reliability_projected (
        seq             bigserial PRIMARY KEY,
        event_id        uuid NOT NULL,
        stream_id       text NOT NULL,
        stream_version  bigint NOT NULL,
        transaction_id  xid8 NOT NULL,
        global_position bigint NOT NULL
      )`.execute(t.database.db);
  });
  afterAll(() => t?.close());

  const counting: Projection = {
    name: 'reliability-count',
    async apply(trx, events) {
      await sql`
        INSERT INTO reliability_projected (event_id, stream_id, stream_version, transaction_id, global_position)
        SELECT * FROM unnest(${events.map((e) => e.eventId)}::uuid[], ${events.map((e) => e.streamId)}::text[],
                             ${events.map((e) => e.streamVersion)}::bigint[], ${events.map((e) => e.transactionId)}::xid8[],
                             ${events.map((e) => e.globalPosition)}::bigint[])`.execute(trx);
    },
    async reset(trx) {
      await sql`DELETE FROM reliability_projected`.execute(trx);
    },
  };

  it(`${ROUNDS} rounds × ${WRITERS} writers × ${OPERATIONS} operations: every committed event projected exactly once`, async () => {
    const rand = random(SEED);
    const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];
    const tracked: Tracked = { committed: new Set(), rolledBack: new Set() };
    const committedBatches: { stream: string; events: NewEvent[] }[] = [];
    const runnerErrors: unknown[] = [];
    const logger: RunnerLogger = { info: () => undefined, warn: () => undefined, error: (_m, e) => runnerErrors.push(e) };
    const newRunner = () =>
      new ProjectionRunner(t.database.db, store, [counting], { connectionString: t.database.url, batchSize: 13, pollIntervalMs: 50, leaderRetryMs: 50, logger });
    const figures = { rounds: 0, writers: WRITERS, 'operations/writer/round': OPERATIONS, 'events committed': 0, 'events rolled back': 0, 'HTTP commands': 0, seed: SEED };
    let held = '';

    const mains: Credentials[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await t.createMain(`Feed ${i}`, 'Full');
      mains.push({ sid: m.sid, authToken: m.authToken });
    }
    /** Touched only through HTTP. */
    const apiSubs: { sid: string; owner: Credentials }[] = [];
    /** Touched only by raw appends after their creation (HTTP would find the read model behind them). */
    const rawSubs: string[] = [];
    /** Created in a transaction that rolled back: must never appear anywhere. */
    const phantomSubs: string[] = [];
    const httpErrors: string[] = [];

    async function http(path: string, as: Credentials, form: Record<string, string>, expect: number) {
      const o = await send(t.baseUrl, path, { as, body: form });
      figures['HTTP commands']++;
      if (o.kind !== 'response' || o.status !== expect) httpErrors.push(`${path} ${JSON.stringify(form)}: ${describeOutcome(o)}`);
      return o;
    }

    async function accountState(sid: string): Promise<Account> {
      const { rows } = await sql<{ type: string; data: any; recorded_at: Date }>`
        SELECT type, data, recorded_at FROM events WHERE stream_id = ${`account-${sid}`} ORDER BY stream_version`.execute(t.database.db);
      return fold(rows.map((r) => ({ type: r.type, data: r.data, recordedAt: r.recorded_at }) as never)) as Account;
    }

    /** One transaction, the append its first write; slow ones sleep while holding their xid. */
    async function rawAppend(stream: string, events: NewEvent[], expected: number | 'any' | 'no_stream', rollback: boolean, slow: boolean) {
      try {
        await t.database.db.transaction().execute(async (trx) => {
          await store.append(stream, events, expected, trx);
          if (slow) await sql`SELECT pg_sleep(${0.005 + rand() * 0.04})`.execute(trx);
          if (rollback) throw new Rollback();
        });
        events.forEach((e) => tracked.committed.add(e.eventId!));
        committedBatches.push({ stream, events });
        return true;
      } catch (error) {
        if (error instanceof Rollback) {
          events.forEach((e) => tracked.rolledBack.add(e.eventId!));
          return false;
        }
        if (error instanceof WrongExpectedVersionError) return false;
        throw error;
      }
    }

    async function rawRename(sid: string, rollback: boolean) {
      for (let attempt = 0; attempt < 10; attempt++) {
        const state = await accountState(sid);
        const events: NewEvent[] = [
          { eventId: randomUUID(), type: 'AccountRenamed', data: { previous: state.friendlyName, friendlyName: `raw-${randomBytes(4).toString('hex')}` }, metadata: { actorType: 'operator', source: 'cli' } },
        ];
        if ((await rawAppend(`account-${sid}`, events, state.version, rollback, true)) || rollback) return;
      }
    }

    async function rawCreate(rollback: boolean) {
      const sid = `AC${randomBytes(16).toString('hex')}`;
      const owner = pick(mains).sid;
      const events: NewEvent[] = [
        {
          eventId: randomUUID(),
          type: 'SubaccountCreated',
          data: { sid, ownerAccountSid: owner, friendlyName: `raw-created-${sid.slice(2, 8)}`, type: 'Full', authToken: 'sealed-elsewhere' },
          metadata: { actorType: 'operator', source: 'cli' },
        },
      ];
      if (await rawAppend(`account-${sid}`, events, 'no_stream', rollback, rand() < 0.5)) rawSubs.push(sid);
      else if (rollback) phantomSubs.push(sid);
    }

    async function writer() {
      for (let i = 0; i < OPERATIONS; i++) {
        const dice = rand();
        if (dice < 0.15 || apiSubs.length === 0) {
          const owner = pick(mains);
          const o = await http('/2010-04-01/Accounts.json', owner, { FriendlyName: `api-${randomBytes(3).toString('hex')}` }, 201);
          if (o.kind === 'response' && o.status === 201) apiSubs.push({ sid: o.json.sid, owner });
        } else if (dice < 0.35) {
          const sub = pick(apiSubs);
          await http(`/2010-04-01/Accounts/${sub.sid}.json`, sub.owner, { FriendlyName: `api-${randomBytes(3).toString('hex')}` }, 200);
        } else if (dice < 0.45) {
          const sub = pick(apiSubs);
          await http(`/2010-04-01/Accounts/${sub.sid}.json`, sub.owner, { Status: rand() < 0.5 ? 'suspended' : 'active' }, 200);
        } else if (dice < 0.55) {
          await rawCreate(rand() < 0.4);
        } else if (dice < 0.7 && rawSubs.length > 0) {
          await rawRename(pick(rawSubs), rand() < 0.35);
        } else if (dice < 0.9) {
          const events = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ eventId: randomUUID(), type: 'Noise', data: { r: rand() } }));
          await rawAppend(`noise-${Math.floor(rand() * 5)}`, events, 'any', rand() < 0.3, rand() < 0.6);
        } else if (committedBatches.length > 0) {
          const { stream, events } = pick(committedBatches);
          const result = await store.append(stream, events, 'any');
          if (result.written) throw new Error(`a re-append of ${stream} wrote again`);
        }
      }
    }

    let runner = newRunner();
    const rival = newRunner();
    runner.start();
    rival.start();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const restart = (async () => {
          await new Promise((r) => setTimeout(r, 100 + rand() * 400));
          await runner.stop();
          runner = newRunner();
          runner.start();
        })();
        await Promise.all([...Array.from({ length: WRITERS }, writer), restart]);
        expect(httpErrors).toEqual([]);

        // Settle: the service's projections, then the counting one.
        await t.drainProjections(30_000);
        const all = (await sql<{ event_id: string; type: string; stream_id: string }>`SELECT event_id, type, stream_id FROM events`.execute(t.database.db)).rows;
        await waitUntil(
          'the counting projection has seen every stored event',
          async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM reliability_projected`.execute(t.database.db)).rows[0].n >= all.length,
          30_000,
        );
        await new Promise((r) => setTimeout(r, 100)); // a wrong redelivery gets its chance
        const context = `seed ${SEED}, round ${round}`;

        // Everything the writers committed is stored; nothing they rolled back is.
        const stored = new Set(all.map((r) => r.event_id));
        expect({ context, missing: [...tracked.committed].filter((id) => !stored.has(id)) }).toEqual({ context, missing: [] });
        expect({ context, leaked: [...tracked.rolledBack].filter((id) => stored.has(id)) }).toEqual({ context, leaked: [] });

        // The counting projection: each stored event exactly once, per stream in version order,
        // globally in (transaction_id, global_position) order.
        const rows = (
          await sql<{ event_id: string; stream_id: string; stream_version: number; transaction_id: string; global_position: number }>`
            SELECT event_id, stream_id, stream_version::int AS stream_version, transaction_id::text AS transaction_id, global_position::int AS global_position
              FROM reliability_projected ORDER BY seq`.execute(t.database.db)
        ).rows;
        const duplicates = rows.length - new Set(rows.map((r) => r.event_id)).size;
        expect({ context, applied: rows.length, duplicates }).toEqual({ context, applied: all.length, duplicates: 0 });
        const lastVersion = new Map<string, number>();
        for (const r of rows) {
          const previous = lastVersion.get(r.stream_id) ?? 0;
          if (r.stream_version !== previous + 1) expect({ context, stream: r.stream_id, version: r.stream_version }).toEqual({ context, stream: r.stream_id, version: previous + 1 });
          lastVersion.set(r.stream_id, r.stream_version);
        }
        for (let i = 1; i < rows.length; i++) {
          const [a, b] = [rows[i - 1], rows[i]];
          const ordered = BigInt(a.transaction_id) < BigInt(b.transaction_id) || (a.transaction_id === b.transaction_id && a.global_position < b.global_position);
          if (!ordered) expect({ context, a, b }).toBeUndefined();
        }

        // The account read model equals the fold of the log, raw (projection-only) events included.
        const report = await t.app.get(QueryBus).execute(new VerifyReadModelQuery());
        expect({ context, drifts: report.drifts }).toEqual({ context, drifts: [] });
        const rawRows = (await sql<{ sid: string }>`SELECT sid FROM account_read_model WHERE sid = ANY(${[...rawSubs, ...phantomSubs]}::text[])`.execute(t.database.db)).rows;
        expect({ context, rows: rawRows.map((r) => r.sid).sort() }).toEqual({ context, rows: [...rawSubs].sort() });

        // The audit history: exactly the auditable stored events, once each.
        const full = (
          await sql<any>`SELECT global_position::int AS "globalPosition", transaction_id::text AS "transactionId", stream_id AS "streamId",
                                stream_version::int AS "streamVersion", event_id AS "eventId", type, schema_version AS "schemaVersion",
                                data, metadata, recorded_at AS "recordedAt" FROM events`.execute(t.database.db)
        ).rows;
        const auditable = full.filter((e) => auditEntryOf(e) !== null).map((e) => e.eventId as string).sort();
        const audited = (await sql<{ event_id: string }>`SELECT event_id FROM audit_history ORDER BY event_id`.execute(t.database.db)).rows.map((r) => r.event_id);
        expect({ context, audited: audited.length }).toEqual({ context, audited: auditable.length });
        expect(audited).toEqual(auditable);

        figures.rounds = round + 1;
        figures['events committed'] = stored.size;
        figures['events rolled back'] = tracked.rolledBack.size;
      }
      expect(runnerErrors).toEqual([]);
      held = 'each committed event applied once, in order; none rolled back; read model = fold; audit = auditable events';
    } finally {
      await runner.stop();
      await rival.stop();
      recordResult({ item: 2, title: 'Feed (writers × projections)', figures, held });
    }
  }, byProfile({ ci: 120_000, full: 900_000 }));
});
