import { ACCOUNT_STATUSES, type AccountStatus } from './account.resource';
import type { EventListFilters } from './events-page.envelope';
import { TwilioErrors } from './twilio.error';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 1000;

const DIGITS = /^[0-9]+$/;

/**
 * Query parsers hand over `string | string[] | undefined`; a repeated parameter counts by its
 * first value, as servlet-style `getParameter` does.
 */
export function singleParam(raw: unknown): string | undefined {
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? value : undefined;
}

function parseNonNegativeInteger(raw: unknown): number | undefined | null {
  const value = singleParam(raw);
  if (value === undefined || value === '') return undefined;
  if (!DIGITS.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : Number.POSITIVE_INFINITY;
}

/**
 * `PageSize`: absent → 50. Above 1000 → 20007 (COMPAT.md). Anything else that is not an integer
 * from 1 up (0, negative, `abc`, `2.5`) → 20002, the generic invalid-parameter code.
 */
export function parsePageSize(raw: unknown): number {
  const n = parseNonNegativeInteger(raw);
  if (n === undefined) return DEFAULT_PAGE_SIZE;
  if (n === null || n < 1) throw TwilioErrors.invalidParameter('PageSize must be an integer between 1 and 1000');
  if (n > MAX_PAGE_SIZE) throw TwilioErrors.invalidPageSize();
  return n;
}

/** `Page`: absent → 0; a non-negative integer, else 20002. */
export function parsePage(raw: unknown): number {
  const n = parseNonNegativeInteger(raw);
  if (n === undefined) return 0;
  if (n === null || !Number.isSafeInteger(n)) throw TwilioErrors.invalidParameter('Page must be a non-negative integer');
  return n;
}

/** `PageToken`: absent or empty → undefined; decoding (and 21481) is the codec's job. */
export function parsePageToken(raw: unknown): string | undefined {
  const value = singleParam(raw);
  return value === undefined || value === '' ? undefined : value;
}

/** `Status` (filter or update): absent → undefined; outside the enum, empty included → 21475. */
export function parseAccountStatus(raw: unknown): AccountStatus | undefined {
  if (raw === undefined) return undefined;
  const value = singleParam(raw);
  if (value === undefined || !(ACCOUNT_STATUSES as readonly string[]).includes(value)) {
    throw TwilioErrors.invalidStatus();
  }
  return value as AccountStatus;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

interface ParsedDate {
  at: Date;
  /** Length of the instant the text names: a whole day, minute, second or millisecond. */
  resolutionMs: number;
}

function parseDateTime(text: string): ParsedDate | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)] as const;
  const ms = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const utc = Date.UTC(...fields, ms);
  const check = new Date(utc);
  // Date.UTC rolls Feb 30 over to March; reject instead.
  if (
    check.getUTCFullYear() !== fields[0] || check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] ||
    check.getUTCHours() !== fields[3] || check.getUTCMinutes() !== fields[4] || check.getUTCSeconds() !== fields[5]
  ) {
    return null;
  }
  let offsetMs = 0;
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const [oh, om] = zone.slice(1).split(':').map(Number) as [number, number];
    if (oh > 23 || om > 59) return null;
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  const resolutionMs = h === undefined ? 86_400_000 : s === undefined ? 60_000 : frac ? 1 : 1_000;
  return { at: new Date(utc - offsetMs), resolutionMs };
}

export interface EventQuery {
  /** The raw filters, to echo into page URLs. */
  filters: EventListFilters;
  actorSid?: string;
  eventType?: string;
  resourceSid?: string;
  sourceIpAddress?: string;
  /** Inclusive lower bound on event date. */
  startDate?: Date;
  /**
   * Exclusive upper bound. EndDate is inclusive at the precision it was written in, so
   * `EndDate=2015-07-30` keeps the whole day and `…T20:00:00Z` keeps 20:00:00.999.
   */
  endBefore?: Date;
}

const SINGLE_FILTERS = ['ActorSid', 'EventType', 'ResourceSid', 'SourceIpAddress'] as const;
/** No U+0000 and no unpaired surrogate (as the Accounts DTOs require of FriendlyName). */
const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;

/**
 * The `/v1/Events` query. At most one of the non-date filters (COMPAT.md) → else 20002; a
 * malformed date → 20002. StartDate after EndDate is not an error, just an empty range.
 */
export function parseEventQuery(query: Record<string, unknown>): EventQuery {
  const filters: EventListFilters = {};
  for (const name of [...SINGLE_FILTERS, 'StartDate', 'EndDate'] as const) {
    const value = singleParam(query[name]);
    if (value !== undefined && value !== '') filters[name] = value;
  }
  const given = SINGLE_FILTERS.filter((name) => filters[name] !== undefined);
  for (const name of given) {
    // Compared with stored text, which cannot hold these: PostgreSQL would refuse the query (a 500).
    if (!STORABLE_TEXT.test(filters[name]!)) throw TwilioErrors.invalidParameter(`${name} must not contain NUL or unpaired surrogate characters`);
  }
  if (given.length > 1) {
    throw TwilioErrors.invalidParameter(`Only one of ${SINGLE_FILTERS.join(', ')} may be given; got ${given.join(', ')}`);
  }
  const result: EventQuery = {
    filters,
    actorSid: filters.ActorSid,
    eventType: filters.EventType,
    resourceSid: filters.ResourceSid,
    sourceIpAddress: filters.SourceIpAddress,
  };
  if (filters.StartDate !== undefined) {
    const start = parseDateTime(filters.StartDate);
    if (!start) throw TwilioErrors.invalidParameter('StartDate must be an ISO 8601 date or date-time');
    result.startDate = start.at;
  }
  if (filters.EndDate !== undefined) {
    const end = parseDateTime(filters.EndDate);
    if (!end) throw TwilioErrors.invalidParameter('EndDate must be an ISO 8601 date or date-time');
    result.endBefore = new Date(end.at.getTime() + end.resolutionMs);
  }
  for (const key of ['actorSid', 'eventType', 'resourceSid', 'sourceIpAddress'] as const) {
    if (result[key] === undefined) delete result[key];
  }
  return result;
}

/**
 * An instant given as an ISO 8601 date or date-time, taken inclusively at the precision written
 * (as EndDate is): the last millisecond it covers, so `…T20:00:00Z` includes 20:00:00.999 and a
 * date alone its whole day. Null when it is not one.
 */
export function parseInclusiveInstant(raw: unknown): Date | null {
  const text = singleParam(raw);
  if (text === undefined || text.length > 40) return null;
  const parsed = parseDateTime(text);
  return parsed ? new Date(parsed.at.getTime() + parsed.resolutionMs - 1) : null;
}

/** `/v1/Accounts/{Sid}/State`: exactly one of `Version` (an integer from 1) and `AsOf`, else 20002. */
export function parseStateAt(query: Record<string, unknown>): { version: number } | { asOf: Date } {
  const version = singleParam(query.Version);
  const asOf = singleParam(query.AsOf);
  const given = [version, asOf].filter((value) => value !== undefined && value !== '');
  if (given.length !== 1) throw TwilioErrors.invalidParameter('Give exactly one of Version and AsOf');
  if (version !== undefined && version !== '') {
    const n = parseNonNegativeInteger(version);
    if (typeof n !== 'number' || n < 1 || !Number.isSafeInteger(n)) throw TwilioErrors.invalidParameter('Version must be an integer from 1');
    return { version: n };
  }
  const at = parseInclusiveInstant(asOf);
  if (!at) throw TwilioErrors.invalidParameter('AsOf must be an ISO 8601 date or date-time, e.g. 2026-11-27T22:41:34Z');
  return { asOf: at };
}
