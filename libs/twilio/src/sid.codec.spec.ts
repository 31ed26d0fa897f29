import { eventIdFromEventSid, eventSidFromEventId, isAccountSid, isEventSid, newAccountSid } from './sid.codec';

describe('sids', () => {
  it('mints random lowercase account sids', () => {
    const a = newAccountSid();
    expect(a).toMatch(/^AC[0-9a-f]{32}$/);
    expect(isAccountSid(a)).toBe(true);
    expect(newAccountSid()).not.toBe(a);
  });

  it.each([
    ['AC' + 'A'.repeat(32)],
    ['AC' + 'a'.repeat(31)],
    ['AC' + 'a'.repeat(33)],
    ['ac' + 'a'.repeat(32)],
    ['AE' + 'a'.repeat(32)],
    [' AC' + 'a'.repeat(32)],
    ['AC' + 'a'.repeat(32) + '\n'],
    [42],
    [undefined],
  ])('isAccountSid(%p) is false', (value) => {
    expect(isAccountSid(value)).toBe(false);
  });

  it('maps event ids to event sids and back', () => {
    const id = '0b5c8f3e-1d2a-4c3b-9a8e-7f6d5c4b3a21';
    const sid = eventSidFromEventId(id);
    expect(sid).toBe('AE0b5c8f3e1d2a4c3b9a8e7f6d5c4b3a21');
    expect(isEventSid(sid)).toBe(true);
    expect(eventIdFromEventSid(sid)).toBe(id);
    expect(eventSidFromEventId(id.toUpperCase())).toBe(sid);
  });

  it('refuses malformed inputs', () => {
    expect(() => eventSidFromEventId('not-a-uuid')).toThrow(RangeError);
    expect(eventIdFromEventSid('AE123')).toBeNull();
    expect(eventIdFromEventSid('AC' + 'a'.repeat(32))).toBeNull();
    expect(eventIdFromEventSid('AE' + 'A'.repeat(32))).toBeNull();
  });
});
