import http from 'node:http';
import { csvRecords, parseXml, textsOf } from '../../support/wire-formats';

/**
 * Plain node:http for the reliability suites: the path is sent as given (fetch would normalise
 * it), any method and header, a bytes body, and every failure mode told apart instead of thrown.
 */
export interface Credentials {
  sid: string;
  authToken: string;
}

export const basic = (c: Credentials): string => `Basic ${Buffer.from(`${c.sid}:${c.authToken}`).toString('base64')}`;

export type Outcome =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; text: string; json: any; ms: number }
  /** No complete answer: refused or reset (`connect`), or none within the bound (`timeout`). */
  | { kind: 'connect' | 'timeout'; code: string; ms: number };

export interface SendOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  as?: Credentials;
  /** An object is sent form-encoded. */
  body?: string | Buffer | Record<string, string>;
  contentType?: string;
  timeoutMs?: number;
  agent?: http.Agent | false;
}

export function send(baseUrl: string, path: string, options: SendOptions = {}): Promise<Outcome> {
  const started = Date.now();
  const headers: Record<string, string | string[]> = { ...options.headers };
  if (options.as) headers.authorization = basic(options.as);
  let body: Buffer | undefined;
  if (options.body !== undefined) {
    body = Buffer.isBuffer(options.body)
      ? options.body
      : Buffer.from(typeof options.body === 'string' ? options.body : new URLSearchParams(options.body).toString());
    if (options.contentType !== undefined || !hasHeader(headers, 'content-type')) {
      headers['content-type'] = options.contentType ?? 'application/x-www-form-urlencoded';
    }
    headers['content-length'] = String(body.length);
  }
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        agent: options.agent ?? false,
      });
    } catch (error) {
      // Refused by node before sending (an invalid character in the path or a header).
      settle({ kind: 'connect', code: (error as NodeJS.ErrnoException).code ?? 'CLIENT', ms: 0 });
      return;
    }
    const timeoutMs = options.timeoutMs ?? 15_000;
    timer = setTimeout(() => {
      settle({ kind: 'timeout', code: 'CLIENT_TIMEOUT', ms: Date.now() - started });
      req.destroy();
    }, timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'connect', code: error.code ?? 'UNKNOWN', ms: Date.now() - started }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (error: NodeJS.ErrnoException) => settle({ kind: 'connect', code: error.code ?? 'RESET', ms: Date.now() - started }));
      res.on('end', () => {
        if (!res.complete) {
          settle({ kind: 'connect', code: 'TRUNCATED', ms: Date.now() - started });
          return;
        }
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        settle({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, text, json, ms: Date.now() - started });
      });
    });
    req.end(body);
  });
}

const hasHeader = (headers: Record<string, unknown>, name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);

export const describeOutcome = (o: Outcome): string => (o.kind === 'response' ? `${o.status} ${o.text.slice(0, 300)}` : `${o.kind} ${o.code}`);

export const TWILIO_ERROR_KEYS = ['code', 'message', 'more_info', 'status'];

interface ErrorBody {
  status: unknown;
  code: unknown;
  message: unknown;
  more_info: unknown;
}

/**
 * The error a response carries, in whichever of the 2010 API's formats its Content-Type says:
 * JSON `{code, message, more_info, status}`, XML `<TwilioResponse><RestException>` (read by a
 * strict XML parser: a malformed document is no error envelope), or a CSV row of the same four.
 * Null when the body is none of them.
 */
export function twilioErrorOf(o: Outcome): ErrorBody | null {
  if (o.kind !== 'response') return null;
  const type = String(o.headers['content-type'] ?? '');
  try {
    if (type.startsWith('application/xml')) {
      const { root } = parseXml(o.text);
      const exception = root.children[0];
      if (root.name !== 'TwilioResponse' || root.children.length !== 1 || exception.name !== 'RestException') return null;
      if (exception.children.map((c) => c.name).join() !== 'Status,Message,Code,MoreInfo') return null;
      const fields = textsOf(exception);
      return { status: Number(fields.Status), code: Number(fields.Code), message: fields.Message, more_info: fields.MoreInfo };
    }
    if (type.startsWith('text/csv')) {
      const records = csvRecords(o.text);
      if (records.length !== 1 || Object.keys(records[0]).join() !== 'Status,Message,Code,MoreInfo') return null;
      const fields = records[0];
      return { status: Number(fields.Status), code: Number(fields.Code), message: fields.Message, more_info: fields.MoreInfo };
    }
  } catch {
    return null;
  }
  if (o.json === undefined || o.json === null || typeof o.json !== 'object') return null;
  return Object.keys(o.json).sort().join() === TWILIO_ERROR_KEYS.join() ? o.json : null;
}

/** True when the body is Twilio's error envelope (in any of the 2010 formats) for this status. */
export function isTwilioError(o: Outcome, status?: number, code?: number): boolean {
  const error = twilioErrorOf(o);
  if (o.kind !== 'response' || error === null) return false;
  return (
    error.status === o.status &&
    (status === undefined || o.status === status) &&
    (code === undefined || error.code === code) &&
    typeof error.message === 'string' &&
    error.more_info === `https://www.twilio.com/docs/errors/${error.code}`
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `condition` holds, bounded in time. */
export async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000, intervalMs = 50): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < 100_000; i++) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${Date.now() - started} ms waiting until ${what}`);
}
