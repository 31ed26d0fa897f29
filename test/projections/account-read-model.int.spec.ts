import { sql, type KyselyPlugin } from 'kysely';
import { AccountReadModelProjection, ReadModelDriftError, evolveAccountRow, type AccountState } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface Event {
  streamId: string;
  streamVersion: number;
  type: string;
  data: Record<string, unknown>;
  recordedAt: Date;
}

const MAIN = 'AC' + 'a'.repeat(32);
const SUB1 = 'AC' + 'b'.repeat(32);
const SUB2 = 'AC' + 'c'.repeat(32);
const KEY1 = 'SK' + 'd'.repeat(32);
const KEY2 = 'SK' + 'e'.repeat(32);
const KEY3 = 'SK' + 'f'.repeat(32);

/** A history touching every event type, interleaved across streams as the feed delivers it. */
function history(): Event[] {
  const versions = new Map<string, number>();
  let clock = Date.parse('2026-11-27T10:00:00.123Z');
  const e = (sid: string, type: string, data: Record<string, unknown>): Event => {
    const v = (versions.get(sid) ?? 0) + 1;
    versions.set(sid, v);
    clock += 1001;
    return { streamId: `account-${sid}`, streamVersion: v, type, data, recordedAt: new Date(clock) };
  };
  return [
    e(MAIN, 'MainAccountCreated', { sid: MAIN, friendlyName: 'main', type: 'Trial', authToken: 'sealed-main' }),
    e(SUB1, 'SubaccountCreated', { sid: SUB1, ownerAccountSid: MAIN, friendlyName: 'one', type: 'Trial', authToken: 'sealed-1' }),
    e(MAIN, 'SubaccountAdded', { subaccountSid: SUB1 }),
    e(SUB2, 'SubaccountCreated', { sid: SUB2, ownerAccountSid: MAIN, friendlyName: 'two', type: 'Trial', authToken: 'sealed-2' }),
    e(MAIN, 'SubaccountAdded', { subaccountSid: SUB2 }),
    { streamId: 'bench-not-an-account', streamVersion: 1, type: 'Thing', data: {}, recordedAt: new Date(clock) },
    e(SUB1, 'AccountRenamed', { previous: 'one', friendlyName: 'one renamed' }),
    e(MAIN, 'AccountUpgraded', { previous: 'Trial', type: 'Full' }),
    e(SUB1, 'AccountUpgraded', { previous: 'Trial', type: 'Full' }),
    e(MAIN, 'AccountStatusChanged', { previous: 'active', status: 'suspended', reason: 'operator' }),
    e(SUB1, 'AccountStatusChanged', { previous: 'active', status: 'suspended', reason: 'owner_suspended' }),
    e(SUB2, 'AccountStatusChanged', { previous: 'active', status: 'closed', reason: 'requested' }),
    e(MAIN, 'SubaccountReleased', { subaccountSid: SUB2 }),
    e(MAIN, 'AccountStatusChanged', { previous: 'suspended', status: 'active', reason: 'operator' }),
    e(SUB1, 'AccountStatusChanged', { previous: 'suspended', status: 'active', reason: 'owner_reactivated' }),
    e(SUB1, 'AccountRenamed', { previous: 'one renamed', friendlyName: 'one again' }),
    e(MAIN, 'ApiKeyCreated', { keySid: KEY1, friendlyName: 'first', secretVerifier: 'v1.salt.one' }),
    e(MAIN, 'ApiKeyRenamed', { keySid: KEY1, previous: 'first', friendlyName: null }),
    e(SUB1, 'ApiKeyCreated', { keySid: KEY2, friendlyName: null, secretVerifier: 'v1.salt.two' }),
    e(MAIN, 'ApiKeyCreated', { keySid: KEY3, friendlyName: 'third', secretVerifier: 'v1.salt.three' }),
    e(SUB1, 'ApiKeyRenamed', { keySid: KEY2, previous: null, friendlyName: 'two' }),
    e(MAIN, 'ApiKeyDeleted', { keySid: KEY3, friendlyName: 'third' }),
    e(MAIN, 'SecondaryAuthTokenCreated', { authToken: 'sealed-main-2', replaced: false }),
    e(SUB1, 'SecondaryAuthTokenCreated', { authToken: 'sealed-1-2', replaced: false }),
    e(MAIN, 'AuthTokenPromoted', {}),
    e(SUB1, 'SecondaryAuthTokenCreated', { authToken: 'sealed-1-3', replaced: true }),
    e(SUB1, 'SecondaryAuthTokenDeleted', {}),
    e(SUB1, 'ApiKeyDeleted', { keySid: KEY2, friendlyName: 'two' }),
    e(SUB1, 'ApiKeyCreated', { keySid: KEY3 + 'x', friendlyName: 'late', secretVerifier: 'v1.salt.four' }),
  ];
}

const chunked = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * The rows and api_keys the definition gives (evolveAccountRow over each stream, as verify folds
 * it), in the tables' order.
 */
function definition(events: Event[]): { rows: unknown[]; keys: unknown[] } {
  const states = new Map<string, AccountState>();
  const rows = new Map<string, unknown>();
  const keys = new Map<string, Record<string, unknown>>();
  for (const event of events) {
    if (!event.streamId.startsWith('account-')) continue;
    const sid = event.streamId.slice('account-'.length);
    const step = evolveAccountRow(states.get(sid) ?? null, event as never);
    states.set(sid, step.state);
    rows.set(sid, step.row);
    const change = step.apiKey;
    if (!change) continue;
    const keySid = change.match?.sid ?? (change.row!.sid as string);
    if (change.row === null) keys.delete(keySid);
    else keys.set(keySid, { ...keys.get(keySid), ...change.row });
  }
  const bySid = <T>(map: Map<string, T>) => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, value]) => value);
  return { rows: bySid(rows), keys: bySid(keys) };
}

describe('AccountReadModelProjection (batched) gives the rows evolveAccountRow gives', () => {
  let t: TestDatabase;
  const projection = new AccountReadModelProjection();

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.destroy());
  const clear = async () => {
    await sql`DELETE FROM account_read_model`.execute(t.db);
    await sql`DELETE FROM api_keys`.execute(t.db);
  };
  beforeEach(clear);

  const tables = async () => ({
    rows: (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(t.db)).rows,
    keys: (await sql`SELECT * FROM api_keys ORDER BY sid`.execute(t.db)).rows,
  });
  const rows = async () => (await tables()).rows;
  /** The projection fed one event per batch, in one transaction. */
  const oneByOne = (events: Event[]) =>
    t.db.transaction().execute(async (trx) => {
      for (const event of events) await projection.apply(trx, [event] as never);
    });
  const batched = (events: Event[]) => t.db.transaction().execute((trx) => projection.apply(trx, events as never));

  async function reference(): Promise<{ rows: unknown[]; keys: unknown[] }> {
    const expected = definition(history());
    expect(expected.rows).toHaveLength(3);
    expect(expected.keys).toHaveLength(2);
    return expected;
  }

  it.each([1, 2, 5, 100])('in batches of %i', async (size) => {
    const expected = await reference();
    for (const batch of chunked(history(), size)) await batched(batch);
    expect(await tables()).toEqual(expected);
  });

  it('writes a batch in a few statements, whatever its size', async () => {
    const statements: string[] = [];
    const counting: KyselyPlugin = {
      transformQuery: (args) => {
        statements.push(args.node.kind);
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    await t.db.transaction().execute((trx) => projection.apply(trx.withPlugin(counting), history() as never));
    // The read, the row insert, the row update, then api_keys: insert, update, delete.
    expect(statements.length).toBeLessThanOrEqual(6);
    expect(await tables()).toEqual(await reference());
  });

  it('applies a redelivered batch as a no-op', async () => {
    const expected = await reference();
    await batched(history());
    await batched(history());
    await batched(history().slice(3, 9));
    await batched(history().slice(15, 25));
    expect(await tables()).toEqual(expected);
  });

  it('skips what the inline writer already applied, whatever the prefix', async () => {
    const expected = await reference();
    const events = history();
    for (const k of [1, 4, 9, 18, 22, events.length]) {
      await clear();
      await oneByOne(events.slice(0, k));
      await batched(events);
      expect(await tables()).toEqual(expected);
    }
  });

  it('raises ReadModelDriftError for an event beyond the stored version, and writes nothing', async () => {
    const events = history();
    await expect(batched([events[0], events[6]])).rejects.toBeInstanceOf(ReadModelDriftError); // SUB1 renamed before it exists
    expect(await rows()).toEqual([]);
    await oneByOne(events.slice(0, 3));
    await expect(batched([events[7], { ...events[13], streamId: `account-${MAIN}`, streamVersion: 9 }])).rejects.toBeInstanceOf(ReadModelDriftError);
  });

  it('does not overwrite a row another writer changed after the batch read it', async () => {
    const events = history();
    await oneByOne(events.slice(0, 5)); // MAIN at version 3
    // Right after the batch has read the rows, another session moves MAIN to version 4.
    let moved = false;
    const interleave: KyselyPlugin = {
      transformQuery: (args) => args.node,
      async transformResult(args) {
        if (!moved) {
          moved = true;
          await t.pool.query(`UPDATE account_read_model SET version = 4, friendly_name = 'moved on' WHERE sid = $1`, [MAIN]);
        }
        return args.result;
      },
    };
    await t.db.transaction().execute((trx) => projection.apply(trx.withPlugin(interleave), [events[7]] as never)); // MAIN v4: upgrade
    expect(moved).toBe(true);
    const { rows: [main] } = await sql<{ friendly_name: string; type: string; version: number }>`SELECT * FROM account_read_model WHERE sid = ${MAIN}`.execute(t.db);
    expect(main).toMatchObject({ friendly_name: 'moved on', type: 'Trial', version: 4 });
  });
});
