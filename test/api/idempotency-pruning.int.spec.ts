import { sql } from 'kysely';
import { IdempotencyKeyPruner, IdempotencyStore } from '@accountable/accounts';
import { Keyring } from '@accountable/secrets';
import { startTestApp } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

describe('Idempotency-Key pruning', () => {
  let t: TestDatabase;
  let store: IdempotencyStore;

  beforeAll(async () => {
    t = await createTestDatabase();
    store = new IdempotencyStore(new Keyring([Buffer.alloc(32, 7)]));
  });
  afterAll(() => t.destroy());

  /** `count` keys of one account, created `ageHours` ago. */
  async function keys(prefix: string, count: number, ageHours: number): Promise<void> {
    await sql`
      INSERT INTO idempotency_keys (account_sid, key, request_hash, response, created_at)
      SELECT 'AC' || repeat('0', 32), ${prefix} || i, 'hash', 'sealed', now() - make_interval(hours => ${ageHours})
        FROM generate_series(1, ${count}) AS i`.execute(t.db);
  }
  const remaining = async (prefix: string) =>
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM idempotency_keys WHERE key LIKE ${prefix + '%'}`.execute(t.db)).rows[0].n;

  it('deletes the keys past their 24 hours, a batch at a time, and keeps the live ones', async () => {
    await keys('old-', 23, 25);
    await keys('live-', 5, 23);
    const pruner = new IdempotencyKeyPruner(t.db, store);

    expect(await pruner.pruneAll(10)).toBe(23);
    expect(await remaining('old-')).toBe(0);
    expect(await remaining('live-')).toBe(5);
    expect(await pruner.pruneAll(10)).toBe(0);
  });

  it('skips a key another transaction is replacing, instead of waiting for it', async () => {
    await keys('held-', 2, 30);
    const holder = await t.client();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM idempotency_keys WHERE key = 'held-1' FOR UPDATE`);
    try {
      expect(await store.pruneExpired(t.db, 100)).toBe(1);
      expect(await remaining('held-')).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
    }
    expect(await store.pruneExpired(t.db, 100)).toBe(1);
    expect(await remaining('held-')).toBe(0);
  });

  it('runs in the service (the projector role), on its database', async () => {
    const service = await startTestApp();
    try {
      await sql`
        INSERT INTO idempotency_keys (account_sid, key, request_hash, response, created_at)
        VALUES ('AC' || repeat('1', 32), 'expired', 'hash', 'sealed', now() - interval '2 days')`.execute(service.runtime.db);
      // The pass the service made at start-up may be the one deleting it (ours then skips the
      // locked row): either way it goes, within a few passes.
      const left = async () =>
        (await sql<{ n: number }>`SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'expired'`.execute(service.runtime.db)).rows[0].n;
      for (let pass = 0; pass < 50 && (await left()) > 0; pass++) {
        await service.app.get(IdempotencyKeyPruner).pruneAll();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await left()).toBe(0);
    } finally {
      await service.close();
    }
  });
});
