import { ruleErrorOf } from './account.fixtures';
import { assertValidFriendlyName, defaultSubaccountName, friendlyNameLength } from './friendly-name.rules';

describe('friendly name', () => {
  it.each([
    ['1 character', 'a'],
    ['64 characters', 'a'.repeat(64)],
    ['64 emoji (128 UTF-16 units)', '😀'.repeat(64)],
    ['surrounding spaces, kept as sent', ' a '],
  ])('accepts %s', (_, name) => {
    expect(() => assertValidFriendlyName(name)).not.toThrow();
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'a'.repeat(65)],
    ['65 emoji', '😀'.repeat(65)],
    ['one space', ' '],
    ['only white space (tab, LF, NBSP, ideographic space)', ' \t\n\u00a0\u3000'],
  ])('rejects %s with 20002', (_, name) => {
    expect(ruleErrorOf(() => assertValidFriendlyName(name))).toMatchObject({
      reason: 'friendly_name_invalid',
    });
  });

  it('counts code points, not UTF-16 units', () => {
    expect(friendlyNameLength('𝒜é😀')).toBe(3);
  });
});

describe('default subaccount name', () => {
  const at = (hour: number, minute: number) => new Date(Date.UTC(2024, 2, 5, hour, minute, 59));

  it.each([
    [0, 5, '12:05 am'],
    [9, 0, '09:00 am'],
    [11, 59, '11:59 am'],
    [12, 30, '12:30 pm'],
    [13, 7, '01:07 pm'],
    [23, 59, '11:59 pm'],
  ])('%i:%i UTC reads %s', (hour, minute, time) => {
    expect(defaultSubaccountName(at(hour, minute))).toBe(`SubAccount Created at 2024-03-05 ${time}`);
  });

  it('uses the UTC date, whatever the local zone', () => {
    expect(defaultSubaccountName(new Date('2023-12-31T23:30:00-05:00'))).toBe(
      'SubAccount Created at 2024-01-01 04:30 am',
    );
  });
});
