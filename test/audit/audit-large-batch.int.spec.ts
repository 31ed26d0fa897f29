import { randomBytes, randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@accountable/event-store';
import { AuditHistoryProjection } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

/** A rebuild reads thousands of events per batch: more rows than one statement's 65,535 parameters allow. */
describe('audit projection, large batch', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.destroy());

  it('applies a batch of 5000 auditable events', async () => {
    const events: RecordedEvent[] = Array.from({ length: 5000 }, (_, i) => {
      const sid = `AC${randomBytes(16).toString('hex')}`;
      return {
        globalPosition: i + 1,
        transactionId: '1000',
        streamId: `account-${sid}`,
        streamVersion: 1,
        eventId: randomUUID(),
        type: 'MainAccountCreated',
        schemaVersion: 1,
        data: { sid, friendlyName: `m${i}`, type: 'Full', authToken: 'sealed' },
        metadata: { actorType: 'operator', actorSid: null, source: 'cli' },
        recordedAt: new Date(),
      };
    });
    await t.db.transaction().execute((trx) => new AuditHistoryProjection().apply(trx, events));
    const { count } = await t.db.selectFrom('audit_history').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    expect(Number(count)).toBe(5000);
  });
});
