const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function assertValid(date: Date): void {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new RangeError('invalid date');
  }
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** v2010 dates: `Thu, 30 Jul 2015 20:00:00 +0000`, always GMT. */
export function formatRfc2822(date: Date): string {
  assertValid(date);
  return (
    `${WEEKDAYS[date.getUTCDay()]}, ${pad2(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ` +
    `${String(date.getUTCFullYear()).padStart(4, '0')} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} +0000`
  );
}

/** Monitor v1 dates: `2015-07-30T20:00:00Z`; sub-second precision is truncated, never rounded. */
export function formatIso8601Seconds(date: Date): string {
  assertValid(date);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
