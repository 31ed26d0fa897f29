import type { AccountRecord } from '@accountable/accounts';
import { startTestApp, type TestApp } from '../support/test-app';
import { accountPath, eventCount, raw } from './accounts-api.helpers';

/**
 * A statement the database cancels at DB_STATEMENT_TIMEOUT_MS (SQLSTATE 57014) is the service
 * being overloaded, not the client's fault and not a bug: 503 20503, as for a lost database.
 * (A full disk, 53100, is mapped the same way: twilio-exception.filter.spec.ts.)
 */
describe('a statement timeout answers 503 20503', () => {
  let t: TestApp;
  let main: AccountRecord;

  beforeAll(async () => {
    t = await startTestApp({ env: { DB_STATEMENT_TIMEOUT_MS: '300' } });
    main = await t.createMain('Main', 'Full');
  });
  afterAll(() => t.close());

  it('reads and writes held up past the timeout by a lock: 503 in the envelope, nothing written; served again after', async () => {
    const locker = await t.database.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE account_read_model IN ACCESS EXCLUSIVE MODE');
      const before = await eventCount(t);
      for (const request of [{}, { body: { FriendlyName: 'held up' } }]) {
        const res = await raw(t, accountPath(main.sid), { as: main, ...request });
        expect([res.status, res.json]).toEqual([503, { code: 20503, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/20503', status: 503 }]);
      }
      expect(await eventCount(t)).toBe(before);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await raw(t, accountPath(main.sid), { as: main })).status).toBe(200);
  });
});
