import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import {
  CommandConflictError,
  CommandTransaction,
  DuplicateEventIdError,
  EventStore,
  storeAnswer,
  WrongExpectedVersionError,
  type CommandWrite,
  type NewEvent,
} from '@accountable/event-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** commit_command (migration 0017) and CommandTransaction: one read, one all-or-nothing commit. */
describe('CommandTransaction', () => {
  let t: TestDatabase;
  let store: EventStore;
  let commands: CommandTransaction;
  let n = 0;
  const stream = () => `cmd-${++n}`;
  const ev = (type = 'Happened', data: Record<string, unknown> = {}): NewEvent => ({ eventId: randomUUID(), type, data });

  beforeAll(async () => {
    t = await createTestDatabase({ max: 25 });
    store = new EventStore(t.db);
    commands = new CommandTransaction(t.db, store);
    // A read model of the tests' own: one row per stream, at its version.
    await sql`CREATE TABLE tallies (id text PRIMARY KEY, total integer NOT NULL, version bigint NOT NULL)`.execute(t.db);
    // Listed as a table commands write, and its writer compiled (migration 0019).
    await sql`INSERT INTO command_row_tables (table_name) VALUES ('tallies')`.execute(t.db);
    await sql`SELECT install_command_row_write()`.execute(t.db);
  });
  afterAll(() => t.destroy());

  const versions = async (streamId: string) =>
    (await sql<{ v: number }>`SELECT stream_version AS v FROM events WHERE stream_id = ${streamId} ORDER BY stream_version`.execute(t.db)).rows.map((r) => r.v);
  const tally = async (id: string) => (await sql<{ total: number; version: number }>`SELECT total, version FROM tallies WHERE id = ${id}`.execute(t.db)).rows[0];
  const eventCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM events`.execute(t.db)).rows[0].n;
  const now = async () => (await sql<{ at: Date }>`SELECT date_trunc('milliseconds', clock_timestamp() + interval '999 microseconds') AS at`.execute(t.db)).rows[0].at;
  /** One command's commit, decided once (no re-read). */
  const commitOnce = (write: CommandWrite) => commands.run(async () => ({ write, result: undefined }));

  it('appends to every stream, writes the rows and stores the answer, in one commit, with the time given', async () => {
    const a = stream();
    const b = stream();
    const at = await now();
    await commitOnce({
      streams: [
        { streamId: a, expectedVersion: 0, events: [ev('Opened'), ev('Counted')] },
        { streamId: b, expectedVersion: 0, events: [ev('Opened')] },
      ],
      recordedAt: at,
      rows: [{ table: 'tallies', match: null, row: { id: a, total: 1, version: 2 } }],
      answer: { scope: 'ACscope', key: `k-${a}`, requestHash: 'h', response: 'the answer', lifetime: '24 hours' },
    });
    const { rows } = await sql<{ stream_id: string; stream_version: number; recorded_at: Date; transaction_id: string }>`
      SELECT stream_id, stream_version, recorded_at, transaction_id::text FROM events WHERE stream_id IN (${a}, ${b}) ORDER BY global_position`.execute(t.db);
    expect(rows.map((r) => [r.stream_id, r.stream_version])).toEqual([
      [a, 1],
      [a, 2],
      [b, 1],
    ]);
    expect(new Set(rows.map((r) => r.transaction_id)).size).toBe(1);
    for (const row of rows) expect(row.recorded_at.getTime()).toBe(at.getTime());
    expect(await tally(a)).toEqual({ total: 1, version: 2 });
    const answer = await sql<{ response: string }>`SELECT response FROM idempotency_keys WHERE account_sid = 'ACscope' AND key = ${`k-${a}`}`.execute(t.db);
    expect(answer.rows).toEqual([{ response: 'the answer' }]);
    expect(await store.streamVersion(a)).toBe(2);
  });

  it('a stream only read is checked too: moved since, nothing is written', async () => {
    const written = stream();
    const read = stream();
    await store.append(read, [ev()], 'no_stream');
    await store.append(read, [ev()], 1); // moved after the decision read it at 1
    const before = await eventCount();
    const error = await commitOnce({
      streams: [
        { streamId: written, expectedVersion: 0, events: [ev()] },
        { streamId: read, expectedVersion: 1, events: [] },
      ],
      recordedAt: await now(),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(error).toMatchObject({ streamId: read, expected: 1, actual: 2 });
    expect(await eventCount()).toBe(before);
    expect(await store.streamVersion(written)).toBeNull();
  });

  it('a row not at the version the decision read undoes the whole command', async () => {
    const id = stream();
    await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), rows: [{ table: 'tallies', match: null, row: { id, total: 1, version: 1 } }] });
    const before = await eventCount();
    const error = await commitOnce({
      streams: [{ streamId: id, expectedVersion: 1, events: [ev()] }],
      recordedAt: await now(),
      rows: [{ table: 'tallies', match: { id, version: 7 }, row: { total: 2, version: 2 } }],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandConflictError);
    expect(await eventCount()).toBe(before);
    expect(await tally(id)).toEqual({ total: 1, version: 1 });
    expect(await store.streamVersion(id)).toBe(1);
  });

  it('updates and deletes the matching row', async () => {
    const id = stream();
    await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), rows: [{ table: 'tallies', match: null, row: { id, total: 1, version: 1 } }] });
    await commitOnce({
      streams: [{ streamId: id, expectedVersion: 1, events: [ev()] }],
      recordedAt: await now(),
      rows: [{ table: 'tallies', match: { id, version: 1 }, row: { total: 5, version: 2 } }],
    });
    expect(await tally(id)).toEqual({ total: 5, version: 2 });
    await commitOnce({ streams: [{ streamId: id, expectedVersion: 2, events: [ev()] }], recordedAt: await now(), rows: [{ table: 'tallies', match: { id }, row: null }] });
    expect(await tally(id)).toBeUndefined();
  });

  it('a live answer under the key undoes the command; an expired one is replaced', async () => {
    const id = stream();
    const key = `k-${id}`;
    await sql`INSERT INTO idempotency_keys (account_sid, key, request_hash, response) VALUES ('ACscope', ${key}, 'h', 'first')`.execute(t.db);
    const answer = { scope: 'ACscope', key, requestHash: 'h', response: 'second', lifetime: '24 hours' };
    const error = await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), answer }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandConflictError);
    expect(await store.streamVersion(id)).toBeNull();
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${key}`.execute(t.db);
    await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), answer });
    expect((await sql<{ response: string }>`SELECT response FROM idempotency_keys WHERE key = ${key}`.execute(t.db)).rows).toEqual([{ response: 'second' }]);
  });

  it('storeAnswer, in the caller’s transaction: stored with its writes; a live answer under the key undoes them; an expired one is replaced', async () => {
    const key = `k-alone-${stream()}`;
    const answer = (response: string) => ({ scope: 'ACscope', key, requestHash: 'h', response, lifetime: '24 hours' });
    const responses = async () => (await sql<{ response: string }>`SELECT response FROM idempotency_keys WHERE key = ${key}`.execute(t.db)).rows;
    const id = stream();
    const withAppend = (response: string) =>
      t.db.transaction().execute(async (trx) => {
        await store.append(id, [ev()], 'any', trx);
        await storeAnswer(trx, answer(response));
      });
    await withAppend('first');
    expect(await responses()).toEqual([{ response: 'first' }]);
    expect(await withAppend('second').catch((e: unknown) => e)).toBeInstanceOf(CommandConflictError);
    expect(await responses()).toEqual([{ response: 'first' }]);
    expect(await versions(id)).toEqual([1]);
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${key}`.execute(t.db);
    await withAppend('third');
    expect(await responses()).toEqual([{ response: 'third' }]);
    expect(await versions(id)).toEqual([1, 2]);
  });

  it('an event time before a written stream’s last event is refused', async () => {
    const id = stream();
    const early = await now();
    await store.append(id, [ev()], 'no_stream');
    const error = await commitOnce({ streams: [{ streamId: id, expectedVersion: 1, events: [ev()] }], recordedAt: new Date(early.getTime() - 1000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WrongExpectedVersionError);
    expect(await versions(id)).toEqual([1]);
  });

  it('an event id stored already is a DuplicateEventIdError, and nothing is written', async () => {
    const id = stream();
    const known = ev();
    await store.append(stream(), [known], 'no_stream');
    const error = await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev(), known] }], recordedAt: await now() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DuplicateEventIdError);
    expect(await store.streamVersion(id)).toBeNull();
  });

  it('commands contending for one stream re-read and re-decide until each has committed once, versions contiguous', async () => {
    const id = stream();
    await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), rows: [{ table: 'tallies', match: null, row: { id, total: 0, version: 1 } }] });
    let attempts = 0;
    const increment = () =>
      commands.run(async (executor) => {
        attempts++;
        // The one read: the row, its stream's version, the time.
        const { rows } = await sql<{ total: number; version: number; at: Date }>`
          SELECT r.total, s.version, date_trunc('milliseconds', greatest(clock_timestamp(), s.updated_at) + interval '999 microseconds') AS at
            FROM tallies r JOIN streams s ON s.stream_id = r.id WHERE r.id = ${id}`.execute(executor);
        const [{ total, version, at }] = rows;
        return {
          write: {
            streams: [{ streamId: id, expectedVersion: version, events: [ev('Counted', { total: total + 1 })] }],
            recordedAt: at,
            rows: [{ table: 'tallies', match: { id, version }, row: { total: total + 1, version: version + 1 } }],
          },
          result: total + 1,
        };
      });
    const results = await Promise.all(Array.from({ length: 16 }, increment));
    expect([...results].sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(await versions(id)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    expect(await tally(id)).toEqual({ total: 16, version: 17 });
    expect(attempts).toBeGreaterThanOrEqual(16);
  });

  describe('shared commits (commit_commands, migration 0021)', () => {
    const txOf = async (ids: readonly string[]) =>
      (await sql<{ stream_id: string; tx: string }>`SELECT stream_id, transaction_id::text AS tx FROM events WHERE stream_id = ANY (${ids}::text[])`.execute(t.db)).rows;
    /** Decided at once (no read), so that every command submits its commit in the same turn. */
    const decideNow = (write: CommandWrite) => commands.run(async () => ({ write, result: write.streams[0].streamId }));

    it('commands committing while one is in flight go together in one transaction, each with its own rows and answer', async () => {
      const ids = Array.from({ length: 8 }, stream);
      const at = await now();
      await Promise.all(
        ids.map((id) =>
          decideNow({
            streams: [{ streamId: id, expectedVersion: 0, events: [ev('Opened'), ev('Counted')] }],
            recordedAt: at,
            rows: [{ table: 'tallies', match: null, row: { id, total: 2, version: 2 } }],
            answer: { scope: 'ACshared', key: `k-${id}`, requestHash: 'h', response: `answer ${id}`, lifetime: '24 hours' },
          }),
        ),
      );
      const rows = await txOf(ids);
      expect(rows).toHaveLength(16);
      // The first went alone (nothing was in flight); the seven that came meanwhile, together.
      const transactions = new Map<string, Set<string>>();
      for (const row of rows) transactions.set(row.tx, (transactions.get(row.tx) ?? new Set()).add(row.stream_id));
      expect([...transactions.values()].map((streams) => streams.size).sort()).toEqual([1, 7]);
      for (const id of ids) {
        expect(await versions(id)).toEqual([1, 2]);
        expect(await tally(id)).toEqual({ total: 2, version: 2 });
      }
      const answers = await sql<{ key: string; response: string }>`SELECT key, response FROM idempotency_keys WHERE account_sid = 'ACshared' ORDER BY key`.execute(t.db);
      expect(answers.rows).toEqual(ids.map((id) => ({ key: `k-${id}`, response: `answer ${id}` })).sort((a, b) => a.key.localeCompare(b.key)));
    });

    it('a wrong version fails only its own command, which decides again; the others of its call commit', async () => {
      const blocker = stream();
      const shared = stream();
      const others = [stream(), stream(), stream()];
      const at = await now();
      let attempts = 0;
      // Two commands create `shared` from the same read: the second in the call finds it made.
      const create = () =>
        commands.run(async (executor) => {
          attempts++;
          const version = (await store.streamVersion(shared, executor)) ?? 0;
          return { write: { streams: [{ streamId: shared, expectedVersion: version, events: [ev()] }], recordedAt: at }, result: version };
        });
      const first = decideNow({ streams: [{ streamId: blocker, expectedVersion: 0, events: [ev()] }], recordedAt: at });
      const results = await Promise.all([
        first,
        create(),
        create(),
        ...others.map((id) => decideNow({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: at })),
      ]);
      expect(results.slice(1, 3).sort()).toEqual([0, 1]);
      expect(attempts).toBe(3);
      expect(await versions(shared)).toEqual([1, 2]);
      for (const id of others) expect(await versions(id)).toEqual([1]);
    });

    it('a command the server refuses (a row conflict) undoes its call; the others commit again alone, and only it fails', async () => {
      const id = stream();
      await commitOnce({ streams: [{ streamId: id, expectedVersion: 0, events: [ev()] }], recordedAt: await now(), rows: [{ table: 'tallies', match: null, row: { id, total: 1, version: 1 } }] });
      const others = [stream(), stream(), stream()];
      const at = await now();
      const before = await eventCount();
      const outcomes = await Promise.allSettled([
        decideNow({ streams: [{ streamId: stream(), expectedVersion: 0, events: [ev()] }], recordedAt: at }),
        // Its row is not at the version it names: commit_command raises, every time it is decided.
        decideNow({ streams: [{ streamId: id, expectedVersion: 1, events: [ev()] }], recordedAt: at, rows: [{ table: 'tallies', match: { id, version: 7 }, row: { total: 2, version: 2 } }] }),
        ...others.map((other) => decideNow({ streams: [{ streamId: other, expectedVersion: 0, events: [ev()] }], recordedAt: at })),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(CommandConflictError);
      expect(await eventCount()).toBe(before + 4);
      expect(await tally(id)).toEqual({ total: 1, version: 1 });
      for (const other of others) expect(await versions(other)).toEqual([1]);
    });

    it('the same event id in two commands of one call: the first commits, the second is a DuplicateEventIdError', async () => {
      const twice = ev();
      const [a, b] = [stream(), stream()];
      const at = await now();
      const outcomes = await Promise.allSettled([
        decideNow({ streams: [{ streamId: stream(), expectedVersion: 0, events: [ev()] }], recordedAt: at }),
        decideNow({ streams: [{ streamId: a, expectedVersion: 0, events: [twice] }], recordedAt: at }),
        decideNow({ streams: [{ streamId: b, expectedVersion: 0, events: [{ ...twice }] }], recordedAt: at }),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(DuplicateEventIdError);
      expect(await versions(a)).toEqual([1]);
      expect(await store.streamVersion(b)).toBeNull();
    });
  });
});
