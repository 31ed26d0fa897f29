import { parseAccountStatus, parseEventQuery, parsePage, parsePageSize, parsePageToken } from './request.parser';
import { TwilioError } from './twilio.error';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof TwilioError) return error.code;
    throw error;
  }
  return undefined;
}

describe('parsePageSize', () => {
  it('defaults to 50', () => {
    expect(parsePageSize(undefined)).toBe(50);
    expect(parsePageSize('')).toBe(50);
  });

  it('accepts 1..1000', () => {
    expect(parsePageSize('1')).toBe(1);
    expect(parsePageSize('1000')).toBe(1000);
    expect(parsePageSize(['7', '9'])).toBe(7);
    expect(parsePageSize(20)).toBe(20);
  });

  it('over 1000 → 20007', () => {
    expect(codeOf(() => parsePageSize('1001'))).toBe(20007);
    expect(codeOf(() => parsePageSize('99999999999999999999999'))).toBe(20007);
  });

  it.each(['0', '-1', 'abc', '2.5', ' 5', '1e3'])('%p → 20002', (raw) => {
    expect(codeOf(() => parsePageSize(raw))).toBe(20002);
  });
});

describe('parsePage', () => {
  it('defaults to 0 and accepts non-negative integers', () => {
    expect(parsePage(undefined)).toBe(0);
    expect(parsePage('0')).toBe(0);
    expect(parsePage('12')).toBe(12);
  });

  it.each(['-1', 'x', '1.5', '99999999999999999999999'])('%p → 20002', (raw) => {
    expect(codeOf(() => parsePage(raw))).toBe(20002);
  });
});

describe('parsePageToken', () => {
  it('treats empty as absent', () => {
    expect(parsePageToken(undefined)).toBeUndefined();
    expect(parsePageToken('')).toBeUndefined();
    expect(parsePageToken('PAxyz')).toBe('PAxyz');
  });
});

describe('parseAccountStatus', () => {
  it('accepts the enum, case-sensitively', () => {
    expect(parseAccountStatus(undefined)).toBeUndefined();
    expect(parseAccountStatus('active')).toBe('active');
    expect(parseAccountStatus('suspended')).toBe('suspended');
    expect(parseAccountStatus('closed')).toBe('closed');
  });

  it.each(['Active', '', 'deleted', null])('%p → 21475', (raw) => {
    expect(codeOf(() => parseAccountStatus(raw))).toBe(21475);
  });
});

describe('parseEventQuery', () => {
  it('takes one non-date filter plus the date range', () => {
    expect(parseEventQuery({ EventType: 'account.created', StartDate: '2015-07-30T20:00:00Z', EndDate: '2015-07-30', Other: 'x' })).toEqual({
      filters: { EventType: 'account.created', StartDate: '2015-07-30T20:00:00Z', EndDate: '2015-07-30' },
      eventType: 'account.created',
      startDate: new Date('2015-07-30T20:00:00Z'),
      endBefore: new Date('2015-07-31T00:00:00Z'),
    });
  });

  it('makes EndDate inclusive at its own precision', () => {
    expect(parseEventQuery({ EndDate: '2015-07-30T20:00:00Z' }).endBefore).toEqual(new Date('2015-07-30T20:00:01Z'));
    expect(parseEventQuery({ EndDate: '2015-07-30T20:00Z' }).endBefore).toEqual(new Date('2015-07-30T20:01:00Z'));
    expect(parseEventQuery({ EndDate: '2015-07-30T20:00:00.250Z' }).endBefore).toEqual(new Date('2015-07-30T20:00:00.251Z'));
    expect(parseEventQuery({ EndDate: '2015-07-30T22:00:00+02:00' }).endBefore).toEqual(new Date('2015-07-30T20:00:01Z'));
  });

  it('returns no criteria for an empty query', () => {
    expect(parseEventQuery({})).toEqual({ filters: {} });
  });

  it.each(['ActorSid', 'EventType', 'ResourceSid', 'SourceIpAddress'])('%s with NUL or an unpaired surrogate, which the database cannot compare → 20002', (name) => {
    expect(codeOf(() => parseEventQuery({ [name]: '\u0000' }))).toBe(20002);
    expect(codeOf(() => parseEventQuery({ [name]: 'AC\ud800' }))).toBe(20002);
    expect(parseEventQuery({ [name]: 'café 😀' })).toMatchObject({ filters: { [name]: 'café 😀' } });
  });

  it('more than one non-date filter → 20002', () => {
    expect(codeOf(() => parseEventQuery({ ActorSid: 'AC1', ResourceSid: 'AC2' }))).toBe(20002);
  });

  it.each(['yesterday', '2015-02-30', '2015-07-30T25:00:00Z', '2015-07-30 20:00:00Z', '2015-07-30T20:00:00+24:00'])(
    'malformed date %p → 20002',
    (raw) => {
      expect(codeOf(() => parseEventQuery({ StartDate: raw }))).toBe(20002);
      expect(codeOf(() => parseEventQuery({ EndDate: raw }))).toBe(20002);
    },
  );
});
