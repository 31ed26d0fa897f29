import { decodeEventPageToken, decodePageToken, encodeEventPageToken, encodePageToken } from './page-token.codec';
import { TwilioError } from './twilio.error';

const ACCOUNT_KEY = { dateCreated: new Date('2020-01-02T03:04:05.678Z'), sid: 'AC0123456789abcdef0123456789abcdef' };
const EVENT_KEY = { eventDate: new Date('2021-06-07T08:09:10.111Z'), sid: 'AE0123456789abcdef0123456789abcdef' };

function expect21481(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TwilioError);
    expect((error as TwilioError).code).toBe(21481);
    expect((error as TwilioError).status).toBe(400);
    return;
  }
  throw new Error('expected a 21481');
}

describe('page tokens', () => {
  it('round-trips account keys in both directions with PA/PB prefixes', () => {
    const next = encodePageToken('after', ACCOUNT_KEY);
    const previous = encodePageToken('before', ACCOUNT_KEY);
    expect(next.startsWith('PA')).toBe(true);
    expect(previous.startsWith('PB')).toBe(true);
    expect(next).toMatch(/^P[AB][A-Za-z0-9_-]+$/);
    expect(decodePageToken(next)).toEqual({ direction: 'after', key: ACCOUNT_KEY });
    expect(decodePageToken(previous)).toEqual({ direction: 'before', key: ACCOUNT_KEY });
  });

  it('round-trips event keys', () => {
    expect(decodeEventPageToken(encodeEventPageToken('before', EVENT_KEY))).toEqual({ direction: 'before', key: EVENT_KEY });
  });

  it('keeps account and event tokens apart', () => {
    expect21481(() => decodeEventPageToken(encodePageToken('after', ACCOUNT_KEY)));
    expect21481(() => decodePageToken(encodeEventPageToken('after', EVENT_KEY)));
  });

  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    ['empty', ''],
    ['prefix only', 'PA'],
    ['wrong prefix', `PC${b64(['2020-01-02T03:04:05.678Z', ACCOUNT_KEY.sid])}`],
    ['not base64url', 'PA!!!!'],
    ['padding', `PA${b64(['2020-01-02T03:04:05.678Z', ACCOUNT_KEY.sid])}=`],
    ['not JSON', `PA${Buffer.from('{nope').toString('base64url')}`],
    ['object', `PA${b64({ d: '2020-01-02T03:04:05.678Z', s: ACCOUNT_KEY.sid })}`],
    ['three items', `PA${b64(['2020-01-02T03:04:05.678Z', ACCOUNT_KEY.sid, 1])}`],
    ['no ms', `PA${b64(['2020-01-02T03:04:05Z', ACCOUNT_KEY.sid])}`],
    ['impossible date', `PA${b64(['2020-02-30T03:04:05.678Z', ACCOUNT_KEY.sid])}`],
    ['bad sid', `PA${b64(['2020-01-02T03:04:05.678Z', 'AC123'])}`],
    ['huge', `PA${'A'.repeat(10_000)}`],
  ])('rejects %s with 21481', (_name, token) => {
    expect21481(() => decodePageToken(token));
  });

  it('rejects non-strings', () => {
    expect21481(() => decodePageToken(undefined));
    expect21481(() => decodePageToken(['PA']));
  });
});
