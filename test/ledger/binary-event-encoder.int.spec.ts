import { sql } from 'kysely';
import { BinaryEventEncoder, COPY_EVENT_COLUMNS, STORED_EVENT_COLUMNS, copyOut, eventLeafHash, storedEventOf, type StoredEventRow } from '@accountable/ledger';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/**
 * `ledger verify` hashes each event from its binary COPY bytes (BinaryEventEncoder); the
 * projection and proofs hash the text row through `storedEventOf` + `encodeEventText`, the
 * definition. Both must give the same leaf for anything PostgreSQL can store.
 */
describe('BinaryEventEncoder: the same leaf hash as the text path, for every kind of stored value', () => {
  let t: TestDatabase;
  beforeAll(async () => (t = await createTestDatabase()));
  afterAll(() => t.destroy());

  let stream = 0;
  async function insert(event: { data: unknown; metadata?: unknown; type?: string; streamId?: string; schemaVersion?: number; recordedAt?: string }): Promise<void> {
    stream += 1;
    await sql`
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
      VALUES (${event.streamId ?? `enc-${stream}`}, ${stream}, gen_random_uuid(), ${event.type ?? 'Thing'}, ${event.schemaVersion ?? 1},
              ${JSON.stringify(event.data)}::jsonb, ${JSON.stringify(event.metadata ?? {})}::jsonb, ${event.recordedAt ?? '2026-12-05T12:07:48.123456Z'}::timestamptz)`.execute(t.db);
  }

  /** Each event's leaf both ways, in feed order; and how many rows took the encoder's general path. */
  async function bothWays(): Promise<{ text: string[]; binary: string[]; general: number }> {
    const { rows } = await sql<StoredEventRow>`SELECT ${sql.raw(STORED_EVENT_COLUMNS)} FROM events ORDER BY transaction_id, global_position`.execute(t.db);
    const encoder = new BinaryEventEncoder();
    const binary: string[] = [];
    await copyOut(t.pool, `COPY (SELECT ${COPY_EVENT_COLUMNS} FROM events ORDER BY transaction_id, global_position) TO STDOUT (FORMAT binary)`, (tuple) => {
      binary.push(encoder.leafHash(tuple).toString('hex'));
      expect(encoder.globalPosition).toBe(Number(rows[binary.length - 1].global_position));
      expect(encoder.eventId()).toBe(rows[binary.length - 1].event_id);
    });
    return { text: rows.map((row) => eventLeafHash(storedEventOf(row)).toString('hex')), binary, general: encoder.generalRows };
  }

  beforeEach(async () => {
    // Each case on an empty log: past the immutability trigger as a superuser can.
    const c = await t.client();
    await c.query('SET session_replication_role = replica');
    await c.query('DELETE FROM events');
    await c.end();
  });

  it('takes the fast path for the service\'s own shapes (keys of every length, nested objects, arrays, small integers, unicode values)', async () => {
    await insert({ data: { sid: 'AC1', friendlyName: 'ünïcödé 😀 名前', type: 'Full', authToken: 'v1.abc' }, metadata: { correlationId: 'c', actorType: 'account', actorSid: 'AC1', source: 'api', sourceIp: '127.0.0.1', userAgent: 'x' } });
    await insert({ data: { zz: { b: [1, { y: true, x: null }], a: [] }, a: {}, longer_key: false, b: -42, c: 0, d: 123456789012345 } });
    await insert({ data: [], metadata: { nested: { deeper: { deepest: ['a', 'b'] } } }, streamId: 'account-ÄC 😀', type: 'Ünicode' });
    const { text, binary, general } = await bothWays();
    expect(binary).toEqual(text);
    expect(general).toBe(0);
  });

  it('numbers in any form PostgreSQL keeps: rewritten as JSON.parse + RFC 8785 would', async () => {
    for (const n of ['1.0', '1.50', '1e3', '1E-7', '-0', '0.1', '-12.5e10', '1234567890123456', '12345678901234567890', '1e21', '9007199254740993', '0.000001', '1e-7', '5e-324', '1.7976931348623157e308'])
      await sql`INSERT INTO events (stream_id, stream_version, event_id, type, data) VALUES (${`num-${n}`}, 1, gen_random_uuid(), 'N', ${`{"n": ${n}, "list": [${n}, ${n}]}`}::jsonb)`.execute(t.db);
    const { text, binary } = await bothWays();
    expect(binary).toEqual(text);
  });

  it('strings and keys that need escaping or sort differently in UTF-8 and UTF-16 take the general path, with the same result', async () => {
    await insert({ data: { 'quote"d': 'a "b" c', back: 'a\\b', nl: 'line\nbreak\ttab\r\b\f', ctl: '\u0001\u001f\u007f', sep: '\u2028\u2029' } });
    await insert({ data: { é: 1, e: 2, '\uE000': 3, '😀': 4, 'a\u0001': 5 } });
    await insert({ data: { k: 'v' }, streamId: 'with "quote"', type: 'tab\there' });
    const { text, binary, general } = await bothWays();
    expect(binary).toEqual(text);
    expect(general).toBe(3);
  });

  it('recorded_at at any time: before 2000, the epoch, far years, years BC, beyond 2^53 µs, ±infinity', async () => {
    for (const at of ['1999-12-31T23:59:59.000001Z', '2000-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '0999-12-31T23:59:59.999999Z', '0044-03-15 12:00:00+00 BC', '2400-02-29T01:02:03.4Z', '10000-01-01T00:00:00.5Z', '294276-12-31 23:59:59.999999+00', '4713-01-01 00:00:00+00 BC', 'infinity', '-infinity'])
      await insert({ data: {}, recordedAt: at });
    const { text, binary } = await bothWays();
    expect(binary).toEqual(text);
  });

  it('schema versions and versions of any sign and size', async () => {
    await insert({ data: {}, schemaVersion: -7 });
    await insert({ data: {}, schemaVersion: 2147483647 });
    await sql`INSERT INTO events (stream_id, stream_version, event_id, type, data) VALUES ('big', 9007199254740991, gen_random_uuid(), 'T', '{}')`.execute(t.db);
    const { text, binary } = await bothWays();
    expect(binary).toEqual(text);
  });
});
