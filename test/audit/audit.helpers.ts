import { request as httpRequest } from 'node:http';
import twilio from 'twilio';
import type { AccountRecord } from '@accountable/accounts';
import type { TestApp } from '../support/test-app';

/** Shared by the audit e2e suites (not a spec itself). */

export type Credentials = Pick<AccountRecord, 'sid' | 'authToken'>;

/** The official client with both products pointed at the test server (COMPAT.md). */
export function clientFor(t: TestApp, account: Credentials): twilio.Twilio {
  const client = twilio(account.sid, account.authToken);
  client.api.baseUrl = t.baseUrl;
  client.monitor.baseUrl = t.baseUrl;
  return client;
}

/**
 * t.drainProjections() until every projection's checkpoint has reached the last stored event.
 *
 * One pass is not enough under load: the feed only delivers transactions older than the oldest
 * one still running (pg_snapshot_xmin), and transaction ids are cluster-wide, so a transaction in
 * another test's database can hold back events this database has already committed; the pass
 * then ends with them unread. A pass may also lose a batch to the app's own background runner
 * (CheckpointConflictError: the winner's batch counts).
 */
/** Every projection caught up with the newest event. */
export function drain(t: TestApp, timeoutMs = 30_000): Promise<void> {
  return t.drainProjections(timeoutMs);
}

export const basic = (account: Credentials): string =>
  `Basic ${Buffer.from(`${account.sid}:${account.authToken}`).toString('base64')}`;

export interface RawResponse {
  status: number;
  headers: Headers;
  json: any;
}

/** Plain `fetch`, for what twilio-node hides: exact bodies, URLs, malformed input. */
export async function raw(t: TestApp, path: string, as?: Credentials, init: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (as) headers.authorization = basic(as);
  const response = await fetch(`${t.baseUrl}${path}`, { method: init.method ?? 'GET', headers });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json };
}

/** A GET with a Host header of our choosing (fetch always sends the URL's own). */
export function getWithHost(t: TestApp, path: string, host: string, as: Credentials): Promise<{ status: number; json: any }> {
  const url = new URL(path, t.baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { host, authorization: basic(as) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** twilio-node surfaces every non-2xx as RestException; returns it for status/code checks. */
export async function restError(operation: Promise<unknown>): Promise<{ status: number; code: number; moreInfo: string }> {
  try {
    await operation;
  } catch (error) {
    if (error instanceof twilio.RestException) return error as never;
    throw error;
  }
  throw new Error('expected a RestException, the call succeeded');
}

export interface AuditRow {
  sid: string;
  event_id: string;
  account_sid: string;
  resource_sid: string;
  event_type: string;
  event_data: Record<string, any>;
  actor_type: string;
  actor_sid: string | null;
  source: string;
  source_ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  description: string | null;
  event_date: Date;
  global_position: number;
}

/** Every audit row in list order (newest first). */
export async function auditRows(t: TestApp, where = 'true', params: unknown[] = []): Promise<AuditRow[]> {
  const { rows } = await t.database.pool.query<AuditRow>(
    `SELECT * FROM audit_history WHERE ${where} ORDER BY event_date DESC, sid DESC`,
    params,
  );
  return rows;
}

export const AUDITED_TYPES = ['MainAccountCreated', 'SubaccountCreated', 'AccountRenamed', 'AccountStatusChanged', 'AccountUpgraded'];

export async function auditableEventCount(t: TestApp): Promise<number> {
  const { rows } = await t.database.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM events WHERE stream_id LIKE 'account-%' AND type = ANY($1)`,
    [AUDITED_TYPES],
  );
  return Number(rows[0].n);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the wall clock is past the start of the next whole second. */
export async function nextSecond(): Promise<void> {
  await sleep(1000 - (Date.now() % 1000) + 30);
}

export const sids = (items: readonly { sid: string }[]): string[] => items.map((i) => i.sid);
