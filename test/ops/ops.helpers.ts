import { randomBytes } from 'node:crypto';
import http from 'node:http';
export { freePort } from '../../libs/database/src/embedded-postgres';
import { runCli, startService, tail, type CliResult, type ServiceProcess } from '../support/processes';

/**
 * Shared by the operations suites (test/ops): real service processes, plain HTTP with every
 * failure mode told apart (connection refused, reset before any response, truncated body,
 * client-side timeout), and bounded waiting.
 */

/** One key for every process of a suite: they share a database, so they must unseal each other's tokens. */
export const newEncryptionKey = (): string => randomBytes(32).toString('hex');

export interface OpsProcess extends ServiceProcess {
  name: string;
  /** `http://127.0.0.1:<port>`, parsed from "listening on …". */
  url: string;
}

/**
 * Every process a suite starts, so that afterAll can stop them whatever happened in between.
 * `stopAll` sends SIGTERM, then SIGKILL to whatever is still alive after `graceMs`.
 */
export class Processes {
  private readonly all: ServiceProcess[] = [];

  /** `node dist/apps/api/src/main.js [args]`, waits for its listening line (bounded). */
  async start(name: string, args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<OpsProcess> {
    const service = startService(env, args);
    this.all.push(service);
    const [, url] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, timeoutMs);
    return Object.assign(service, { name, url });
  }

  async stopAll(graceMs = 5_000): Promise<void> {
    await Promise.all(this.all.map((p) => p.stop('SIGTERM', graceMs)));
  }
}

/** Runs the CLI with `--json` and parses its one document; throws with its output otherwise. */
export async function cliJson<T = any>(args: string[], env: Record<string, string | undefined>, expectedCode = 0): Promise<T> {
  const result: CliResult = await runCli([...args, '--json'], env);
  if (result.code !== expectedCode) {
    throw new Error(`cli ${args.join(' ')} exited ${result.code} (expected ${expectedCode})\nstdout: ${result.stdout}\nstderr: ${tail(result.stderr)}`);
  }
  return JSON.parse(result.stdout) as T;
}

export interface Credentials {
  sid: string;
  authToken: string;
}

export async function createMainViaCli(name: string, env: Record<string, string | undefined>): Promise<Credentials> {
  const created = await cliJson<{ sid: string; auth_token: string; type: string }>(['create-main', '--friendly-name', name, '--type', 'Full'], env);
  if (created.type !== 'Full') throw new Error(`create-main gave a ${created.type} account`);
  return { sid: created.sid, authToken: created.auth_token };
}

/** What happened to one HTTP request, each failure mode apart. */
export type Outcome =
  | {
      kind: 'response';
      status: number;
      body: string;
      /** Parsed body, undefined when not JSON. */
      json: any;
      /** false: the connection closed before the whole body (as announced) arrived. */
      complete: boolean;
      startedAt: number;
      endedAt: number;
    }
  | {
      /** `connect`: no response at all (refused, reset before a status line); `timeout`: none within timeoutMs. */
      kind: 'connect' | 'timeout';
      code: string;
      message: string;
      startedAt: number;
      endedAt: number;
    };

export interface CallOptions {
  method?: string;
  as?: Credentials;
  form?: Record<string, string>;
  /** Client-side bound; a request without an answer by then is a `timeout` outcome. */
  timeoutMs?: number;
  /** Default: a fresh connection per request (`Connection: close`), so nothing depends on reuse. */
  agent?: http.Agent | false;
}

/** One request with node:http, never rejecting: the outcome says what happened. */
export function call(baseUrl: string, path: string, options: CallOptions = {}): Promise<Outcome> {
  const startedAt = Date.now();
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const headers: Record<string, string> = {};
  if (options.as) headers.authorization = `Basic ${Buffer.from(`${options.as.sid}:${options.as.authToken}`).toString('base64')}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const req = http.request(`${baseUrl}${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, agent: options.agent ?? false });
    const timeoutMs = options.timeoutMs ?? 10_000;
    const timer = setTimeout(() => {
      settle({ kind: 'timeout', code: 'CLIENT_TIMEOUT', message: `no complete answer within ${timeoutMs} ms`, startedAt, endedAt: Date.now() });
      req.destroy();
    }, timeoutMs);
    // Set once a status line arrived: any later failure is a truncated response, not a connection error.
    let finish: (() => void) | undefined;
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (finish) finish();
      else settle({ kind: 'connect', code: error.code ?? 'UNKNOWN', message: error.message, startedAt, endedAt: Date.now() });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        settle({ kind: 'response', status: res.statusCode ?? 0, body: text, json, complete: res.complete, startedAt, endedAt: Date.now() });
      };
      finish = done;
      res.on('end', done);
      res.on('error', done);
      res.on('close', done);
    });
    req.end(body);
  });
}

export const isOk = (o: Outcome): boolean => o.kind === 'response' && o.complete && o.status >= 200 && o.status < 300;

export const describeOutcome = (o: Outcome): string =>
  o.kind === 'response' ? `${o.status}${o.complete ? '' : ' (truncated)'} ${o.body.slice(0, 200)}` : `${o.kind} ${o.code} ${o.message}`;

/** Polls until `condition` holds; bounded in time and in attempts. */
export async function waitUntil(
  what: string,
  condition: () => Promise<boolean> | boolean,
  { timeoutMs = 10_000, intervalMs = 50, maxAttempts = 10_000, detail }: { timeoutMs?: number; intervalMs?: number; maxAttempts?: number; detail?: () => string } = {},
): Promise<number> {
  const started = Date.now();
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) break;
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${Date.now() - started} ms waiting until ${what}${detail ? `\n${detail()}` : ''}`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


export interface ProjectionStatusRow {
  name: string;
  checkpoint: { transaction_id: string; global_position: number };
  lag_events: number;
  lag_seconds: number;
}

/** `projections status --json` until every projection reports lag 0 (bounded). */
export async function waitForZeroLag(env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<ProjectionStatusRow[]> {
  let last: ProjectionStatusRow[] = [];
  await waitUntil(
    `projections status shows lag 0 (last: ${JSON.stringify(last)})`,
    async () => {
      last = await cliJson<ProjectionStatusRow[]>(['projections', 'status'], env);
      return last.length > 0 && last.every((r) => r.lag_events === 0);
    },
    { timeoutMs, intervalMs: 200, maxAttempts: 60 },
  );
  return last;
}
