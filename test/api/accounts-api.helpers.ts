import twilio from 'twilio';
import type { AccountRecord } from '@accountable/accounts';
import type { TestApp } from '../support/test-app';

/** Shared by the Accounts API e2e suites (not a spec itself). */

export type Credentials = Pick<AccountRecord, 'sid' | 'authToken'>;

/** The official client, pointed at the test server (COMPAT.md: only baseUrl changes). */
export function clientFor(t: TestApp, account: Credentials): twilio.Twilio {
  const client = twilio(account.sid, account.authToken);
  client.api.baseUrl = t.baseUrl;
  return client;
}

export const basic = (account: Credentials): string =>
  `Basic ${Buffer.from(`${account.sid}:${account.authToken}`).toString('base64')}`;

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export interface RawRequest {
  method?: string;
  as?: Credentials;
  /** Sent as `application/x-www-form-urlencoded` unless `contentType` says otherwise. */
  body?: string | Buffer | Record<string, string>;
  contentType?: string;
  headers?: Record<string, string>;
}

/** Plain `fetch`, for what twilio-node hides: status lines, headers, exact bodies, malformed input. */
export async function raw(t: TestApp, path: string, request: RawRequest = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.as) headers.authorization = basic(request.as);
  let body: string | Buffer | undefined;
  if (request.body !== undefined) {
    body = typeof request.body === 'string' || Buffer.isBuffer(request.body) ? request.body : new URLSearchParams(request.body).toString();
    headers['content-type'] = request.contentType ?? 'application/x-www-form-urlencoded';
  }
  const response = await fetch(`${t.baseUrl}${path}`, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export const accountPath = (sid: string): string => `/2010-04-01/Accounts/${sid}.json`;
export const LIST_PATH = '/2010-04-01/Accounts.json';

/** twilio-node surfaces every non-2xx as RestException; returns it for status/code checks. */
export async function restError(operation: Promise<unknown>): Promise<{ status: number; code: number; message: string; moreInfo: string }> {
  try {
    await operation;
  } catch (error) {
    if (error instanceof twilio.RestException) return error as never;
    throw error;
  }
  throw new Error('expected a RestException, the call succeeded');
}

export async function eventCount(t: TestApp): Promise<number> {
  const { rows } = await t.database.pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0].n);
}

export interface StoredEvent {
  event_id: string;
  stream_version: number;
  type: string;
  data: Record<string, any>;
  metadata: Record<string, any>;
}

export async function streamEvents(t: TestApp, sid: string): Promise<StoredEvent[]> {
  const { rows } = await t.database.pool.query<StoredEvent>(
    `SELECT event_id, stream_version::int AS stream_version, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`,
    [`account-${sid}`],
  );
  return rows;
}

export async function eventsOfType(t: TestApp, type: string): Promise<StoredEvent[]> {
  const { rows } = await t.database.pool.query<StoredEvent>(
    `SELECT event_id, stream_version::int AS stream_version, type, data, metadata FROM events WHERE type = $1 ORDER BY global_position`,
    [type],
  );
  return rows;
}

/**
 * t.drainProjections() until every projection's checkpoint has passed every stored event. One
 * drain can stop short of a fresh commit: the feed only delivers transactions older than the
 * oldest one still running anywhere on the server, and other test files share the server.
 */
/** Every projection caught up with the newest event. */
export function settle(t: TestApp, timeoutMs = 10_000): Promise<void> {
  return t.drainProjections(timeoutMs);
}

export async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
