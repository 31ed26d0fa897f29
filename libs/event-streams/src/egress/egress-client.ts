import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { EgressPolicy } from './egress-policy';

/** The destination resolves to (or is) an address the policy refuses. Never retried. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'EGRESS_REFUSED';
}

export interface EgressRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
}

/**
 * Twilio's delivery error codes (EVENT-STREAMS.md §7), recorded with a sink's failures: 91305
 * the sink answered 4xx, 91306 5xx, 91307 no connection (refused, DNS, TLS), 91308 no answer in
 * time, 91300 anything else (a refused destination, a redirect).
 */
export type DeliveryErrorCode = 91300 | 91305 | 91306 | 91307 | 91308;

/**
 * How one request ended, as delivery acts on it (Twilio's rules, EVENT-STREAMS.md §6):
 * `delivered` (2xx); `retry` (5xx, 429, a timeout, a connection or DNS failure); `drop`
 * (any other answer — a redirect is not followed — or a refused destination).
 */
export type EgressOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry' | 'drop'; status: number | null; code: DeliveryErrorCode; reason: string };

export interface EgressClientOptions {
  /** Twilio's webhook timeout: the whole exchange, connect to last byte read. */
  timeoutMs?: number;
  /** What is read of a response body (for the failure's record); the rest is not waited for. */
  maxResponseBytes?: number;
  /** Name resolution; tests give one that answers what they need. */
  resolve?: (hostname: string, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;
}

const systemResolve: NonNullable<EgressClientOptions['resolve']> = (hostname, callback) =>
  dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => callback(error, addresses ?? []));

/**
 * Outgoing HTTP for deliveries, safe against a hostile destination (SSRF): a host name is
 * resolved once, its addresses are checked, and the connection is made only to a checked
 * address by the same lookup (node's `lookup` hook), so a second DNS answer cannot slip a private
 * address in between check and connect (rebinding); an address literal is checked before
 * connecting (node does no lookup for one). Redirects are never followed (node:http does not),
 * response bodies are read to a bound, and every request ends within the timeout.
 */
export class EgressClient {
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly resolve: NonNullable<EgressClientOptions['resolve']>;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    readonly policy: EgressPolicy,
    options: EgressClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.resolve = options.resolve ?? systemResolve;
    // Kept alive: a busy sink reuses its connection; each was checked when it was opened.
    this.agents = { http: new http.Agent({ keepAlive: true, maxSockets: 16 }), https: new https.Agent({ keepAlive: true, maxSockets: 16 }) };
  }

  /** checkDestination with this client's policy and resolver. */
  check(url: string): Promise<string | null> {
    return checkDestination(url, this.policy, this.resolve);
  }

  async send(request: EgressRequest): Promise<EgressOutcome> {
    let target: Target;
    try {
      target = parseTarget(request.url);
      if (target.literal !== null) checkAddress(this.policy, target.literal, target.hostname);
    } catch (error) {
      return { kind: 'drop', status: null, code: 91300, reason: (error as Error).message };
    }
    const transport = target.url.protocol === 'https:' ? https : http;
    const signal = AbortSignal.timeout(this.timeoutMs);
    return new Promise<EgressOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: EgressOutcome) => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const req = transport.request(
        target.url,
        {
          method: request.method,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          agent: target.url.protocol === 'https:' ? this.agents.https : this.agents.http,
          lookup: this.lookup,
          signal,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let read = 0;
          const chunks: Buffer[] = [];
          const done = () => {
            const body = Buffer.concat(chunks).toString('utf8');
            finish(outcomeOf(status, body));
          };
          res.on('data', (chunk: Buffer) => {
            if (read >= this.maxResponseBytes) return;
            chunks.push(chunk.subarray(0, this.maxResponseBytes - read));
            read += chunk.length;
            if (read >= this.maxResponseBytes) {
              // Enough to tell what happened: the connection is not kept for the rest.
              done();
              res.destroy();
            }
          });
          res.on('end', done);
          res.on('error', () => done());
          res.on('close', done);
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof EgressRefusedError) return finish({ kind: 'drop', status: null, code: 91300, reason: error.message });
        if (signal.aborted) return finish({ kind: 'retry', status: null, code: 91308, reason: `no answer within ${this.timeoutMs} ms` });
        finish({ kind: 'retry', status: null, code: 91307, reason: `could not connect: ${error.code ?? error.message}` });
      });
      req.end(request.body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** node's lookup hook: the addresses it returns are the ones connected to. */
  private readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname, (error, addresses) => {
      if (error) return callback(error, '', 0);
      let allowed: LookupAddress[];
      try {
        allowed = allowedAddresses(this.policy, hostname, addresses);
      } catch (refused) {
        return callback(refused as NodeJS.ErrnoException, '', 0);
      }
      const wanted = options.family === 4 || options.family === 6 ? allowed.filter((a) => a.family === options.family) : allowed;
      if (wanted.length === 0) return callback(Object.assign(new Error(`${hostname} has no allowed IPv${options.family} address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, wanted);
      callback(null, wanted[0].address, wanted[0].family);
    });
  };

}

/**
 * Whether delivery may reach `url` (sink creation asks before storing one): null when it may,
 * else why not — safe to show the client, it names the host and the address's range, never the
 * URL's credentials. Resolves the host as delivery will; delivery checks again at each connection.
 */
export async function checkDestination(url: string, policy: EgressPolicy, resolve = systemResolve): Promise<string | null> {
  try {
    const target = parseTarget(url);
    if (target.literal !== null) {
      checkAddress(policy, target.literal, target.hostname);
      return null;
    }
    const addresses = await new Promise<LookupAddress[]>((done, fail) =>
      resolve(target.hostname, (error, found) => (error ? fail(new EgressRefusedError(`${target.hostname} does not resolve (${error.code ?? 'error'})`)) : done(found))),
    );
    allowedAddresses(policy, target.hostname, addresses);
    return null;
  } catch (error) {
    if (error instanceof EgressRefusedError) return error.message;
    throw error;
  }
}

/**
 * A NATS sink's servers (`nats://host:port`) as the addresses to connect to: each host resolved
 * and checked once, only allowed addresses kept, written as literals so that the NATS client
 * does no lookup of its own (no rebinding gap). Throws EgressRefusedError when a server has none.
 */
export async function checkedNatsServers(servers: readonly string[], policy: EgressPolicy, resolve = systemResolve): Promise<string[]> {
  const checked: string[] = [];
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new EgressRefusedError('a NATS server is not a URL');
    }
    if (url.protocol !== 'nats:' || url.username || url.password) throw new EgressRefusedError('NATS servers must be nats://host:port, without credentials');
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port || '4222';
    let addresses: LookupAddress[];
    if (isIP(hostname) !== 0) {
      checkAddress(policy, hostname, hostname);
      addresses = [{ address: hostname, family: isIP(hostname) }];
    } else {
      const found = await new Promise<LookupAddress[]>((done, fail) =>
        resolve(hostname, (error, answer) => (error ? fail(new EgressRefusedError(`${hostname} does not resolve (${error.code ?? 'error'})`)) : done(answer))),
      );
      addresses = allowedAddresses(policy, hostname, found);
    }
    for (const { address, family } of addresses) checked.push(`nats://${family === 6 ? `[${address}]` : address}:${port}`);
  }
  return [...new Set(checked)];
}

/**
 * The addresses of `hostname` that may be connected to; throws when there is none. Only those
 * are ever connected to, so a name answering public and private addresses reaches the public.
 */
function allowedAddresses(policy: EgressPolicy, hostname: string, addresses: readonly LookupAddress[]): LookupAddress[] {
  if (addresses.length === 0) throw new EgressRefusedError(`${hostname} does not resolve`);
  const allowed = addresses.filter(({ address }) => policy.allows(address));
  if (allowed.length === 0) checkAddress(policy, addresses[0].address, hostname);
  return allowed;
}

function checkAddress(policy: EgressPolicy, address: string, hostname: string): void {
  const refusal = policy.refusal(address);
  if (refusal === null) return;
  const named = hostname === address ? address : `${hostname} (${address})`;
  throw new EgressRefusedError(`destination ${named} is refused: ${refusal} address; an operator may allow it with EGRESS_ALLOW`);
}

interface Target {
  url: URL;
  hostname: string;
  /** The host when it is an address literal (brackets removed). */
  literal: string | null;
}

function parseTarget(text: string): Target {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EgressRefusedError('destination is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new EgressRefusedError('destination must be an http:// or https:// URL');
  // WHATWG parsing already turned `2130706433` and `0x7f.1` into 127.0.0.1.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { url, hostname, literal: isIP(hostname) === 0 ? null : hostname };
}

function outcomeOf(status: number, body: string): EgressOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  const said = body.trim().slice(0, 200);
  const reason = `HTTP ${status}${said ? `: ${said}` : ''}`;
  if (status >= 500) return { kind: 'retry', status, code: 91306, reason };
  if (status === 429) return { kind: 'retry', status, code: 91305, reason };
  if (status >= 400 && status < 500) return { kind: 'drop', status, code: 91305, reason };
  return { kind: 'drop', status, code: 91300, reason: status >= 300 && status < 400 ? `${reason} (redirects are not followed)` : reason };
}
