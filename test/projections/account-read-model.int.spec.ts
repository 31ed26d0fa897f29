import { sql, type KyselyPlugin } from 'kysely';
import { AccountReadModelProjection, ReadModelDriftError, applyAccountEvent } from '@accountable/accounts';
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
  ];
}

const chunked = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

describe('AccountReadModelProjection (batched) gives the rows applyAccountEvent gives', () => {
  let t: TestDatabase;
  const projection = new AccountReadModelProjection();

  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.destroy());
  beforeEach(() => sql`DELETE FROM account_read_model`.execute(t.db));

  const rows = async () => (await sql`SELECT * FROM account_read_model ORDER BY sid`.execute(t.db)).rows;
  const oneByOne = (events: Event[]) =>
    t.db.transaction().execute(async (trx) => {
      for (const event of events) await applyAccountEvent(trx, event);
    });
  const batched = (events: Event[]) => t.db.transaction().execute((trx) => projection.apply(trx, events as never));

  async function reference(): Promise<unknown[]> {
    await oneByOne(history());
    const expected = await rows();
    await sql`DELETE FROM account_read_model`.execute(t.db);
    return expected;
  }

  it.each([1, 2, 5, 100])('in batches of %i', async (size) => {
    const expected = await reference();
    expect(expected).toHaveLength(3);
    for (const batch of chunked(history(), size)) await batched(batch);
    expect(await rows()).toEqual(expected);
  });

  it('applies a redelivered batch as a no-op', async () => {
    const expected = await reference();
    await batched(history());
    await batched(history());
    await batched(history().slice(3, 9));
    expect(await rows()).toEqual(expected);
  });

  it('skips what the inline writer already applied, whatever the prefix', async () => {
    const expected = await reference();
    const events = history();
    for (const k of [1, 4, 9, events.length]) {
      await sql`DELETE FROM account_read_model`.execute(t.db);
      await oneByOne(events.slice(0, k));
      await batched(events);
      expect(await rows()).toEqual(expected);
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
