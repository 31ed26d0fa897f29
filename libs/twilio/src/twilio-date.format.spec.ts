import { formatIso8601Seconds, formatRfc2822 } from './twilio-date.format';

describe('twilio dates', () => {
  it('formats RFC 2822 in GMT with +0000', () => {
    expect(formatRfc2822(new Date('2015-07-30T20:00:00Z'))).toBe('Thu, 30 Jul 2015 20:00:00 +0000');
    expect(formatRfc2822(new Date('2024-02-03T04:05:06.789Z'))).toBe('Sat, 03 Feb 2024 04:05:06 +0000');
  });

  it('formats ISO 8601 to the second, truncating milliseconds', () => {
    expect(formatIso8601Seconds(new Date('2015-07-30T20:00:00Z'))).toBe('2015-07-30T20:00:00Z');
    expect(formatIso8601Seconds(new Date('2014-10-03T16:48:25.999Z'))).toBe('2014-10-03T16:48:25Z');
  });

  it('rejects invalid dates', () => {
    expect(() => formatRfc2822(new Date('nope'))).toThrow(RangeError);
    expect(() => formatIso8601Seconds(new Date(NaN))).toThrow(RangeError);
  });
});
