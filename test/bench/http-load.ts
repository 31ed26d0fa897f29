import autocannon from 'autocannon';
import type pg from 'pg';
import { percentile } from './closed-loop';

export interface HttpResult {
  /** 2xx responses per second. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

export interface HttpRequestSpec {
  method: 'GET' | 'POST';
  /** Called for every request: its path, headers and body (n counts requests across connections). */
  build(n: number): { path: string; headers: Record<string, string>; body?: string };
}

/** autocannon against a loopback URL, bounded in time and in count. */
export function runHttp(url: string, spec: HttpRequestSpec, options: { connections: number; seconds: number; maxRequests?: number; counter?: { n: number } }): Promise<HttpResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`load only goes to 127.0.0.1, not ${url}`);
  const counter = options.counter ?? { n: 0 };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.seconds,
        maxOverallRequests: options.maxRequests,
        timeout: 30,
        requests: [
          {
            method: spec.method,
            setupRequest: (request) => {
              const built = spec.build(counter.n++);
              request.path = built.path;
              request.headers = built.headers;
              if (built.body !== undefined) request.body = built.body;
              return request;
            },
          },
        ],
      },
      (error, result) => {
        clearTimeout(guard);
        if (error) return reject(error);
        resolve({
          perSecond: result['2xx'] / result.duration,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors + result.timeouts,
          seconds: result.duration,
        });
      },
    );
    // autocannon stops by itself; this is the belt to its braces.
    const guard = setTimeout(() => instance.stop(), (options.seconds + 60) * 1000);
  });
}

export function basic(sid: string, token: string): string {
  return `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}`;
}

const PAGE = 2000;

export interface LagResult {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** What the lag is measured from. */
  from: 'commit timestamp' | 'recorded_at (the decision read, before the commit)';
  /** Creations not yet visible when the probe gave up. */
  unseen: number;
}

/** SQL over an event `e`: true once the audit projection shows it (the default view of "projected"). */
export const AUDIT_VISIBLE = `EXISTS (SELECT 1 FROM audit_history a WHERE a.sid = 'AE' || replace(e.event_id::text, '-', ''))`;

/**
 * SQL over an event `e`: true once `projection`'s checkpoint has passed it — exact for a
 * projection whose effects commit with its checkpoint (the ledger's leaves do).
 */
export function checkpointVisible(projection: string): string {
  if (!/^[a-z-]+$/.test(projection)) throw new Error(`not a projection name: ${projection}`);
  return `EXISTS (SELECT 1 FROM projection_checkpoints c WHERE c.name = '${projection}' AND (c.transaction_id, c.global_position) >= (e.transaction_id, e.global_position))`;
}

/**
 * Projection lag seen from the outside: every few milliseconds, read the SubaccountCreated events
 * after a cursor in feed order and check each is visible (`visible`: by default, looked up in
 * `audit_history` by its sid, the event id re-spelled, the table's primary key). A projection
 * commits a prefix of the feed at a time, so the first invisible event ends the poll; each visible one's lag is the poll's
 * statement time minus the event's commit time, or, when the server does not track commit
 * timestamps, minus its recorded_at, which is not the transaction's start but the time its writer
 * stamped before committing: a SubaccountCreated comes from a command, whose events carry the
 * time its decision read returned (commit_command); an append's events get
 * `greatest(clock_timestamp(), streams.updated_at)` once it holds the stream lock. Either way
 * that lag also counts the time from the stamp to the commit.
 */
export class ProjectionLagProbe {
  private cursor = { transactionId: '0', globalPosition: 0 };
  private readonly lags: number[] = [];
  private stopping = false;
  private loop?: Promise<void>;
  private unseen = 0;
  /** Queries this probe has run (so that others can leave them out of their counts). */
  polls = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly commitTimestamps: boolean,
    private readonly intervalMs = 5,
    private readonly visible = AUDIT_VISIBLE,
  ) {}

  /** Starts at the feed's current head: only events appended from now on are sampled. */
  async start(): Promise<void> {
    const { rows } = await this.pool.query<{ tx: string; pos: string }>(
      'SELECT transaction_id::text AS tx, global_position AS pos FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
    );
    if (rows[0]) this.cursor = { transactionId: rows[0].tx, globalPosition: Number(rows[0].pos) };
    this.loop = this.run();
  }

  /** Keeps polling until every sampled creation is visible (at most `drainMs`), then reports. */
  async stop(drainMs = 15_000): Promise<LagResult> {
    this.stopping = true;
    this.drainDeadline = Date.now() + drainMs;
    await this.loop;
    const sorted = [...this.lags].sort((a, b) => a - b);
    return {
      samples: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? NaN,
      from: this.commitTimestamps ? 'commit timestamp' : 'recorded_at (the decision read, before the commit)',
      unseen: this.unseen,
    };
  }

  private drainDeadline = Number.MAX_SAFE_INTEGER;
  /** Hard bound on the probe, whatever happens. */
  private readonly hardDeadline = Date.now() + 30 * 60_000;

  private async run(): Promise<void> {
    const committedAt = this.commitTimestamps ? 'pg_xact_commit_timestamp(e.transaction_id::xid)' : 'e.recorded_at';
    const query = `
      SELECT e.transaction_id::text AS tx, e.global_position AS pos,
             extract(epoch FROM statement_timestamp() - ${committedAt}) * 1000 AS lag_ms,
             ${this.visible} AS visible
        FROM events e
       WHERE (e.transaction_id, e.global_position) > ($1::xid8, $2::bigint) AND e.type = 'SubaccountCreated'
       ORDER BY e.transaction_id, e.global_position
       LIMIT ${PAGE}`;
    while (Date.now() < this.hardDeadline) {
      this.polls++;
      const { rows } = await this.pool.query<{ tx: string; pos: string; lag_ms: number; visible: boolean }>(query, [
        this.cursor.transactionId,
        this.cursor.globalPosition,
      ]);
      let pending = 0;
      for (const row of rows) {
        if (!row.visible) {
          pending = rows.length - rows.indexOf(row);
          break;
        }
        this.lags.push(Number(row.lag_ms));
        this.cursor = { transactionId: row.tx, globalPosition: Number(row.pos) };
      }
      if (pending === 0 && rows.length === PAGE) continue; // more behind this page, all visible so far
      if (this.stopping && (pending === 0 || Date.now() > this.drainDeadline)) {
        this.unseen = pending;
        return;
      }
      await new Promise((r) => setTimeout(r, this.intervalMs));
    }
  }
}
