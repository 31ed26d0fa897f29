import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findUnopenableKeys, sealedTokenSamples } from '@accountable/accounts';
import { createKysely, createPool } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import { Keyring, SecretBox } from '@accountable/secrets';
import { LEGACY_SEALS } from '../../libs/secrets/src/legacy-seals.fixtures';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** The start-up check (findUnopenableKeys): which keys that sealed the log's tokens the keyring lacks. */
describe('the start-up check of the stored secrets', () => {
  let database: TestDatabase;
  let store: EventStore;
  const [A, B, C] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const [boxA, boxB, boxC] = [A, B, C].map((k) => new SecretBox(k));

  const create = async (sealed: (sid: string) => string): Promise<string> => {
    const sid = `AC${randomBytes(16).toString('hex')}`;
    await store.append(
      `account-${sid}`,
      [{ eventId: randomUUID(), type: 'MainAccountCreated', data: { sid, friendlyName: 'n', type: 'Full', authToken: sealed(sid) }, metadata: { actorType: 'operator', source: 'cli' } }],
      'no_stream',
    );
    return sid;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new EventStore(database.db);
  });
  afterAll(() => database?.destroy());

  it('an empty log needs no key', async () => {
    expect(await findUnopenableKeys(database.db, new Keyring([randomBytes(32)]))).toEqual([]);
  });

  it('names each key that sealed tokens and that the keyring lacks, v1 included; passes once the keyring holds them all', async () => {
    const legacySid = LEGACY_SEALS.values[0].context;
    await store.append(
      `account-${legacySid}`,
      [{ eventId: randomUUID(), type: 'MainAccountCreated', data: { sid: legacySid, friendlyName: 'v1', type: 'Full', authToken: LEGACY_SEALS.values[0].sealed }, metadata: {} }],
      'no_stream',
    );
    for (let i = 0; i < 5; i++) await create((sid) => boxA.seal(randomBytes(16).toString('hex'), sid));
    const underB = await create((sid) => boxB.seal(randomBytes(16).toString('hex'), sid));

    const problems = await findUnopenableKeys(database.db, new Keyring([C, A]));
    expect(problems.map((p) => [p.header, p.keyId]).sort()).toEqual([[`v2.${boxB.keyId}`, boxB.keyId], ['v1', null]].sort());
    expect(problems.find((p) => p.keyId === boxB.keyId)).toMatchObject({ sids: [underB], reason: `sealed with key id ${boxB.keyId}, which is not in the keyring` });
    expect(problems.find((p) => p.keyId === null)).toMatchObject({ sids: [legacySid], reason: 'sealed before key ids (v1), and no key in the keyring opens it' });

    expect(await findUnopenableKeys(database.db, new Keyring([C, B, A, LEGACY_SEALS.key]))).toEqual([]);
    expect((await findUnopenableKeys(database.db, new Keyring([C, B, LEGACY_SEALS.key]))).map((p) => p.keyId)).toEqual([boxA.keyId]);
  });

  it('an altered value or one in no sealed format is not a missing key: left to verify', async () => {
    await create(() => 'sealed-elsewhere');
    // Sealed for another account: its key is held, it does not open.
    await create(() => boxC.seal('x', `AC${'0'.repeat(32)}`));
    expect(await findUnopenableKeys(database.db, new Keyring([C, B, A, LEGACY_SEALS.key]))).toEqual([]);
    // A value in no sealed format has no key header at all.
    const { rows } = await sealedTokenSamples().execute(database.db);
    expect(rows.map((r) => r.header).sort()).toEqual(['v1', ...[boxA, boxB, boxC].map((b) => `v2.${b.keyId}`)].sort());
  });

  it('finds the keys by the partial index of migration 0013, not by reading the log', async () => {
    const pool = createPool(database.url, { max: 1 });
    const db = createKysely(pool);
    try {
      await sql`SET enable_seqscan = off`.execute(db);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sealedTokenSamples()}`.execute(db);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toContain('events_sealing_key_idx');
      expect(plan).not.toMatch(/Seq Scan on events/);
    } finally {
      await db.destroy();
    }
  });
});
