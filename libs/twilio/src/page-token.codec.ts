import { isAccountSid, isEventSid } from './sid.codec';
import { TwilioErrors } from './twilio.error';

/** Relative to the list's own order: `after` = the rows that follow the key, `before` = precede it. */
export type PageDirection = 'after' | 'before';

export interface PageCursor<K> {
  direction: PageDirection;
  key: K;
}

/** Accounts are listed by (date_created, sid) ascending. */
export interface AccountPageKey {
  dateCreated: Date;
  sid: string;
}

/** Events are listed by (event_date, sid) descending. */
export interface EventPageKey {
  eventDate: Date;
  sid: string;
}

const PREFIX: Record<PageDirection, string> = { after: 'PA', before: 'PB' };
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Far above any real token; keeps a hostile PageToken from costing a large JSON parse.
const MAX_TOKEN_LENGTH = 256;

function encode(direction: PageDirection, date: Date, sid: string): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('page key has an invalid date');
  const payload = Buffer.from(JSON.stringify([date.toISOString(), sid]), 'utf8').toString('base64url');
  return `${PREFIX[direction]}${payload}`;
}

function decode(token: unknown, isSid: (s: unknown) => boolean): { direction: PageDirection; date: Date; sid: string } {
  const invalid = TwilioErrors.invalidPageToken();
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) throw invalid;
  const direction: PageDirection | undefined =
    token.startsWith(PREFIX.after) ? 'after' : token.startsWith(PREFIX.before) ? 'before' : undefined;
  const body = token.slice(2);
  if (!direction || !BASE64URL.test(body)) throw invalid;
  const bytes = Buffer.from(body, 'base64url');
  // Node's decoder skips junk silently; only the canonical spelling is accepted.
  if (bytes.toString('base64url') !== body) throw invalid;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalid;
  const [iso, sid] = parsed as unknown[];
  if (typeof iso !== 'string' || !ISO_MS.test(iso) || !isSid(sid)) throw invalid;
  const date = new Date(iso);
  // Rejects calendar nonsense such as Feb 30 that the regex lets through.
  if (Number.isNaN(date.getTime()) || date.toISOString() !== iso) throw invalid;
  return { direction, date, sid: sid as string };
}

export function encodePageToken(direction: PageDirection, key: AccountPageKey): string {
  return encode(direction, key.dateCreated, key.sid);
}

/** Accounts `PageToken`; anything we did not issue → TwilioError 21481. */
export function decodePageToken(token: unknown): PageCursor<AccountPageKey> {
  const { direction, date, sid } = decode(token, isAccountSid);
  return { direction, key: { dateCreated: date, sid } };
}

export function encodeEventPageToken(direction: PageDirection, key: EventPageKey): string {
  return encode(direction, key.eventDate, key.sid);
}

/** Events `PageToken`; anything we did not issue (an accounts token too) → TwilioError 21481. */
export function decodeEventPageToken(token: unknown): PageCursor<EventPageKey> {
  const { direction, date, sid } = decode(token, isEventSid);
  return { direction, key: { eventDate: date, sid } };
}
