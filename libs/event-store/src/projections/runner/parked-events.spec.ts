import { UnreadableEventError, WrongExpectedVersionError } from '../../event-store.errors';
import { describeFailure, isTransientFailure } from './parked-events';

const withCode = (code: string, message = 'failed') => Object.assign(new Error(message), { code });

describe('isTransientFailure: the database or the connection (retry) vs the event (park)', () => {
  it.each(['08006', '53100', '53200', '53300', '57014', '57P01', '57P03', '40001', '40P01', '55P03', '42501', '42P01', '58030', 'XX000', '25P03'])(
    'SQLSTATE %s is transient',
    (code) => expect(isTransientFailure(withCode(code))).toBe(true),
  );

  it.each(['22001', '22021', '22P02', '22P05', '23502', '23505', '23514', '54000'])('SQLSTATE %s belongs to the event', (code) =>
    expect(isTransientFailure(withCode(code))).toBe(false),
  );

  it.each([
    ['ECONNRESET', withCode('ECONNRESET', 'read ECONNRESET')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a closed client', new Error('Client has encountered a connection error and is not queryable')],
    ['a pool timeout', new Error('timeout exceeded when trying to connect')],
    ['an append that lost a race', new WrongExpectedVersionError('account-AC1', 3, 4)],
  ])('%s is transient', (_what, error) => expect(isTransientFailure(error)).toBe(true));

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'field')")],
    ['a rule of the projection', Object.assign(new Error('audit: no account.created row for AC1'), { name: 'AuditOwnerUnknownError' })],
    ['an event no upcaster can lift, whatever the message', new UnreadableEventError('e', 'T', 0, new Error('connection timeout field'))],
    ['something thrown that is no Error', 'oops'],
  ])('%s belongs to the event', (_what, error) => expect(isTransientFailure(error)).toBe(false));
});

describe('describeFailure', () => {
  it('the SQLSTATE, else the error name; a bounded message with no NUL', () => {
    expect(describeFailure(withCode('23514', 'violates check'))).toEqual({ code: '23514', message: 'violates check' });
    expect(describeFailure(new RangeError('x'))).toEqual({ code: 'RangeError', message: 'x' });
    const long = describeFailure(new Error(`a\u0000${'b'.repeat(5000)}`));
    expect(long.message).not.toContain('\u0000');
    expect(long.message.length).toBeLessThanOrEqual(1010);
  });
});
