import { AccountRuleError } from './account.errors';

export const FRIENDLY_NAME_MAX_LENGTH = 64;

/**
 * Length in Unicode code points, not UTF-16 units, so an emoji or a CJK supplementary character
 * counts as one, as a person would count it (our choice; Twilio does not document this).
 * Nothing is trimmed: " x " is three characters and stored as sent.
 */
export const friendlyNameLength = (name: string): number => [...name].length;

export function assertValidFriendlyName(name: string): void {
  const length = friendlyNameLength(name);
  if (length < 1 || length > FRIENDLY_NAME_MAX_LENGTH) {
    throw new AccountRuleError(
      'friendly_name_invalid',
      `FriendlyName must be between 1 and ${FRIENDLY_NAME_MAX_LENGTH} characters`,
    );
  }
  // Spaces alone (any Unicode white space) name nothing anyone could tell apart or find again.
  if (name.trim() === '') {
    throw new AccountRuleError('friendly_name_invalid', 'FriendlyName must contain a character other than white space');
  }
}

/** `SubAccount Created at 2015-07-30 08:00 pm`: 12-hour clock, zero-padded, lowercase, in UTC. */
export function defaultSubaccountName(now: Date): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('defaultSubaccountName: invalid date');
  const pad = (n: number) => String(n).padStart(2, '0');
  const hours = now.getUTCHours();
  const date = `${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
  const time = `${pad(hours % 12 || 12)}:${pad(now.getUTCMinutes())} ${hours < 12 ? 'am' : 'pm'}`;
  return `SubAccount Created at ${date} ${time}`;
}
