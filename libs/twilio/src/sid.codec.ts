import { randomBytes } from 'node:crypto';

const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;
const EVENT_SID = /^AE[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function newAccountSid(): string {
  return `AC${randomBytes(16).toString('hex')}`;
}

/** Strict: we only ever issue lowercase hex, so any other spelling cannot name an account. */
export function isAccountSid(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_SID.test(value);
}

export function isEventSid(value: unknown): value is string {
  return typeof value === 'string' && EVENT_SID.test(value);
}

/** The event sid is the stored event id re-spelled, so no lookup table is needed. */
export function eventSidFromEventId(eventId: string): string {
  const id = eventId.toLowerCase();
  if (!UUID.test(id)) throw new RangeError(`not a UUID: ${eventId}`);
  return `AE${id.replace(/-/g, '')}`;
}

export function eventIdFromEventSid(sid: string): string | null {
  if (!isEventSid(sid)) return null;
  const h = sid.slice(2);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const API_KEY_SID = /^SK[0-9a-fA-F]{32}$/;

export function newApiKeySid(): string {
  return `SK${randomBytes(16).toString('hex')}`;
}

/** Twilio's pattern (either case of hex): a sid of this shape that we never issued is unknown (20404), not invalid. */
export function isApiKeySid(value: unknown): value is string {
  return typeof value === 'string' && API_KEY_SID.test(value);
}
