import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { jetstreamManager, jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { ACCOUNT_STREAM_PREFIX } from '@accountable/accounts';
import { ADVISORY_LOCK_CLASS } from '@accountable/database';
import { EVENT_TYPES, NATS_DUPLICATE_WINDOW_MS } from '@accountable/event-streams';
import type { ServiceProcess } from '../support/processes';
import { percentile } from './closed-loop';
import { basic, runHttp, type HttpRequestSpec, type HttpResult } from './http-load';

/**
 * Event Streams delivery (issue 19, Performance), two measures:
 *
 * 1. Webhook lag: one webhook sink per main account of the create load (a tenant subscribing
 *    to its own changes: a main account's sink receives its subaccounts' events), every type,
 *    pointing to a receiver in this process; under the create phase's load, each CloudEvent's
 *    lag is its arrival here minus its transaction's commit (pg_xact_commit_timestamp, the
 *    bench's server tracks it; same machine, same clock), and every creation must arrive.
 * 2. NATS: a backlog of account events delivered by one `nats` sink (its leadership held by the
 *    bench while the backlog is written, as a process that leads it and stopped would), against
 *    the same messages published by @nats-io/jetstream alone the way NatsSink does (one message
 *    at a time, each acknowledged before the next, same subjects, payloads, headers and ids).
 *    Both rates come from the JetStream stream's own first and last message times.
 */
export interface StreamsPlan {
  connections: number;
  httpSeconds: number;
  warmupSeconds: number;
  /** Account events in the NATS backlog. */
  natsEvents: number;
  /** The webhook sinks' `batch_events`. */
  batchEvents: boolean;
}

export interface StreamsMain {
  sid: string;
  token: string;
}

export interface StreamsDeps {
  pool: pg.Pool;
  /** The bench database's URL (for the connection that holds a sink's leadership). */
  url: string;
  commitTimestamps: boolean;
  statementStats: boolean;
  env: Record<string, string>;
  startService(env: Record<string, string>): Promise<{ service: ServiceProcess; url: string }>;
  waitForProjections(names: readonly string[], timeoutMs?: number): Promise<void>;
  /** The create load's main accounts: one webhook sink each. */
  mains: StreamsMain[];
  creates: HttpRequestSpec;
  counter: { n: number };
  createCap: number;
  /** A fresh Full main account (the NATS backlog's: its subaccount limit is its own). */
  createMain(): Promise<StreamsMain>;
  natsUrl: string;
  /** The account projections, caught up before the NATS backlog is released. */
  projections: readonly string[];
  log(message: string): void;
}

export interface WebhookLag {
  sinks: number;
  batchEvents: boolean;
  create: HttpResult;
  /** CloudEvents of the measured load received (duplicates included). */
  received: number;
  duplicates: number;
  /** Accounts created by the measured load whose AccountCreated never arrived. */
  missing: number;
  expected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Received events of the load ÷ (last arrival − load start). */
  eventsPerSecond: number;
  /** The load's end → every sink's checkpoint at the newest event. */
  catchUpMs: number;
  from: 'commit timestamp' | 'CloudEvent time (recorded_at, stamped in the appending transaction)';
  /** The statements that took most database time from the load's start until the sinks caught up (pg_stat_statements, when loaded). */
  topStatements?: { query: string; calls: number; meanMs: number; shareOfTime: number }[];
}

export interface NatsThroughput {
  events: number;
  /** Messages the sink stored (must equal events). */
  stored: number;
  sinkPerSecond: number;
  barePerSecond: number;
  /** The bare client's rate from its own clock (first publish → last ack), beside the stream's. */
  bareWallPerSecond: number;
  /** Release of the sink's leadership → its checkpoint at the newest event (includes the runner's leader retry, ≤ 1 s). */
  sinkWallMs: number;
}

export interface StreamsResult {
  webhook?: WebhookLag;
  nats?: NatsThroughput;
  /** Why the NATS half did not run. */
  natsSkipped?: string;
}

/** Types a subscription takes: every published one. */
const ALL_TYPES = EVENT_TYPES.filter((d) => d.status !== 'discontinued').map((d) => JSON.stringify({ type: d.type }));

export async function measureStreams(plan: StreamsPlan, deps: StreamsDeps): Promise<StreamsResult> {
  const result: StreamsResult = {};
  const { service, url } = await deps.startService({ ...deps.env, EGRESS_ALLOW: '127.0.0.1' });
  try {
    await deps.waitForProjections(deps.projections);
    result.webhook = await webhookLag(plan, deps, url);
    const reachable = await natsReachable(deps.natsUrl);
    if (reachable !== true) {
      result.natsSkipped = `no NATS server at ${deps.natsUrl} (${reachable})`;
      deps.log(`  streams: ${result.natsSkipped}; NATS figures recorded as null`);
    } else {
      result.nats = await natsThroughput(plan, deps, url);
    }
  } finally {
    await service.stop();
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Webhooks

interface Arrival {
  id: string;
  time: string;
  type: string;
  /** performance.timeOrigin + performance.now(): sub-millisecond wall clock. */
  at: number;
}

async function webhookLag(plan: StreamsPlan, deps: StreamsDeps, url: string): Promise<WebhookLag> {
  const receiver = await startReceiver();
  const sinks: { sink: string; subscription: string; main: StreamsMain }[] = [];
  try {
    for (const main of deps.mains) {
      const configuration = { destination: receiver.url, method: 'POST', batch_events: plan.batchEvents };
      sinks.push({ main, ...(await subscribedSink(url, main, 'webhook', configuration)) });
    }
    deps.log(`  streams: ${sinks.length} webhook sinks (batch_events ${plan.batchEvents}), one per main account, every type`);
    const names = sinks.map((s) => `sink:${s.sink}`);
    // The delivery service reads the set of sinks every second: each has its checkpoint once it runs.
    await deps.waitForProjections(names, 30_000);

    const remaining = () => Math.max(deps.createCap - deps.counter.n, 0);
    await runHttp(url, deps.creates, { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: Math.floor(remaining() / 20), counter: deps.counter });
    await deps.waitForProjections([...deps.projections, ...names]);

    const start = await feedHead(deps.pool);
    await receiver.flush();
    receiver.arrivals.length = 0;
    if (deps.statementStats) await deps.pool.query('SELECT pg_stat_statements_reset()');
    const loadStart = performance.timeOrigin + performance.now();
    const create = await runHttp(url, deps.creates, { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: Math.floor(remaining() / 2), counter: deps.counter });
    const loadEnd = Date.now();
    await deps.waitForProjections(names, 60_000);
    const catchUpMs = Date.now() - loadEnd;
    await receiver.flush();
    const topStatements = deps.statementStats ? await costliestStatements(deps.pool) : undefined;

    const arrivals = [...receiver.arrivals];
    const committed = await commitTimes(deps.pool, deps.commitTimestamps, arrivals.map((a) => a.id));
    const lags: number[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const a of arrivals) {
      if (seen.has(a.id)) {
        duplicates += 1;
        continue;
      }
      seen.add(a.id);
      const at = committed.get(a.id);
      // Events committed before the load (the warm-up's last) are not the load's.
      if (at === undefined) continue;
      lags.push(a.at - (deps.commitTimestamps ? at : Date.parse(a.time)));
    }
    lags.sort((x, y) => x - y);
    const expected = await createdSince(deps.pool, start, deps.mains.map((m) => m.sid));
    const missing = expected.filter((id) => !seen.has(id)).length;
    const last = arrivals.length ? Math.max(...arrivals.map((a) => a.at)) : loadStart;
    const lag: WebhookLag = {
      sinks: sinks.length,
      batchEvents: plan.batchEvents,
      create,
      received: arrivals.length,
      duplicates,
      missing,
      expected: expected.length,
      p50Ms: percentile(lags, 50),
      p99Ms: percentile(lags, 99),
      maxMs: lags[lags.length - 1] ?? NaN,
      eventsPerSecond: arrivals.length / ((last - loadStart) / 1000),
      catchUpMs,
      from: deps.commitTimestamps ? 'commit timestamp' : 'CloudEvent time (recorded_at, stamped in the appending transaction)',
      topStatements,
    };
    deps.log(
      `  webhook lag     p50 ${lag.p50Ms.toFixed(1)} ms  p99 ${lag.p99Ms.toFixed(1)} ms  max ${lag.maxMs.toFixed(1)} ms  (${lags.length} events from the ${lag.from}; creates ${create.perSecond.toFixed(0)}/s p99 ${create.p99Ms} ms; ` +
        `${lag.eventsPerSecond.toFixed(0)} events/s received, ${missing} of ${expected.length} creations missing, ${duplicates} duplicates; sinks caught up ${catchUpMs} ms after the load)`,
    );
    // Stopped before the NATS half: 32 idle sinks would still read every batch of its backlog.
    for (const s of sinks) await removeSink(url, s.main, s);
    return lag;
  } finally {
    await receiver.close();
  }
}

async function costliestStatements(pool: pg.Pool): Promise<NonNullable<WebhookLag['topStatements']>> {
  const { rows } = await pool.query<{ query: string; calls: string; total: number }>(
    `SELECT query, calls, total_exec_time AS total FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  const mine = rows.filter((r) => !/pg_stat_statements|pg_xact_commit_timestamp|projection_checkpoints c/.test(r.query));
  const time = mine.reduce((a, r) => a + r.total, 0) || 1;
  return mine
    .sort((a, b) => b.total - a.total)
    .slice(0, 10)
    .map((r) => ({
      query: r.query.replace(/\s+/g, ' ').slice(0, 160),
      calls: Number(r.calls),
      meanMs: Math.round((r.total / Number(r.calls)) * 1000) / 1000,
      shareOfTime: Math.round((r.total / time) * 1000) / 1000,
    }));
}

/** Commit time (epoch ms) of the events behind these CloudEvent ids (`AE` + the event id's hex). */
async function commitTimes(pool: pg.Pool, commitTimestamps: boolean, ids: readonly string[]): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  const uuids = [...new Set(ids)].filter((id) => /^AE[0-9a-f]{32}$/.test(id)).map((id) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'));
  const committed = commitTimestamps ? 'pg_xact_commit_timestamp(transaction_id::xid)' : 'recorded_at';
  for (let i = 0; i < uuids.length; i += 5000) {
    const { rows } = await pool.query<{ id: string; ms: number }>(
      `SELECT 'AE' || replace(event_id::text, '-', '') AS id, extract(epoch FROM ${committed}) * 1000 AS ms FROM events WHERE event_id = ANY($1::uuid[])`,
      [uuids.slice(i, i + 5000)],
    );
    for (const row of rows) at.set(row.id, Number(row.ms));
  }
  return at;
}

/** CloudEvent ids of the SubaccountCreated events after `from` under these main accounts. */
async function createdSince(pool: pg.Pool, from: { tx: string; pos: string }, owners: readonly string[]): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT 'AE' || replace(event_id::text, '-', '') AS id FROM events
      WHERE (transaction_id, global_position) > ($1::xid8, $2::bigint) AND type = 'SubaccountCreated' AND data->>'ownerAccountSid' = ANY($3)`,
    [from.tx, from.pos, owners],
  );
  return rows.map((r) => r.id);
}

async function feedHead(pool: pg.Pool): Promise<{ tx: string; pos: string }> {
  const { rows } = await pool.query<{ tx: string; pos: string }>(
    'SELECT transaction_id::text AS tx, global_position::text AS pos FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1',
  );
  return rows[0] ?? { tx: '0', pos: '0' };
}

/**
 * The receiver's code, run in a worker thread: in this process's main thread autocannon drives
 * 32 connections, and a receiver sharing its event loop answered late and stamped late (the lag
 * measured was the load generator's). It answers 200 at once and posts each CloudEvent's arrival.
 */
const RECEIVER = `
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { parentPort } = require('node:worker_threads');
let pending = [];
const flush = () => { if (pending.length) { parentPort.postMessage(pending); pending = []; } };
setInterval(flush, 50);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    res.writeHead(200).end();
    try {
      for (const e of JSON.parse(Buffer.concat(chunks).toString('utf8'))) pending.push({ id: e.id, time: e.time, type: e.type, at });
    } catch {}
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'flush') { flush(); parentPort.postMessage('flushed'); } });
`;

/** An HTTP receiver on 127.0.0.1 (in a worker thread) that answers 200 and notes each CloudEvent's arrival. */
async function startReceiver(): Promise<{ url: string; arrivals: Arrival[]; flush(): Promise<void>; close(): Promise<void> }> {
  const arrivals: Arrival[] = [];
  const worker = new Worker(RECEIVER, { eval: true });
  let flushed: (() => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: Arrival[] | { port: number } | 'flushed') => {
      if (message === 'flushed') flushed?.();
      else if (Array.isArray(message)) arrivals.push(...message);
      else resolve(message.port);
    });
  });
  return {
    url: `http://127.0.0.1:${port}/events`,
    arrivals,
    flush: () =>
      new Promise<void>((resolve) => {
        flushed = resolve;
        worker.postMessage('flush');
      }),
    close: async () => {
      await worker.terminate();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The API calls (form bodies as twilio-node sends them)

async function call(url: string, main: StreamsMain, method: 'POST' | 'DELETE', path: string, form?: [string, string][]): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: basic(main.sid, main.token), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    body: form ? new URLSearchParams(form).toString() : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

async function createSink(url: string, main: StreamsMain, sinkType: 'webhook' | 'nats', configuration: object): Promise<string> {
  const sink = await call(url, main, 'POST', '/v1/Sinks', [
    ['Description', `bench ${sinkType}`],
    ['SinkType', sinkType],
    ['SinkConfiguration', JSON.stringify(configuration)],
  ]);
  return sink.sid as string;
}

async function subscribe(url: string, main: StreamsMain, sink: string): Promise<string> {
  const subscription = await call(url, main, 'POST', '/v1/Subscriptions', [['Description', 'bench: every type'], ['SinkSid', sink], ...ALL_TYPES.map((t): [string, string] => ['Types', t])]);
  return subscription.sid as string;
}

async function subscribedSink(url: string, main: StreamsMain, sinkType: 'webhook' | 'nats', configuration: object): Promise<{ sink: string; subscription: string }> {
  const sink = await createSink(url, main, sinkType, configuration);
  return { sink, subscription: await subscribe(url, main, sink) };
}

async function removeSink(url: string, main: StreamsMain, s: { sink: string; subscription: string }): Promise<void> {
  await call(url, main, 'DELETE', `/v1/Subscriptions/${s.subscription}`);
  await call(url, main, 'DELETE', `/v1/Sinks/${s.sink}`);
}

// ---------------------------------------------------------------------------------------------
// NATS

/** True, or why not: a connection within 2 s to `natsUrl`. */
async function natsReachable(natsUrl: string): Promise<true | string> {
  try {
    const nc = await connect({ servers: natsUrl, timeout: 2000, maxReconnectAttempts: 0 });
    await nc.close();
    return true;
  } catch (error) {
    return (error as Error).message;
  }
}

async function natsThroughput(plan: StreamsPlan, deps: StreamsDeps, url: string): Promise<NatsThroughput> {
  const tag = randomBytes(4).toString('hex');
  const stream = `BENCH_${tag.toUpperCase()}`;
  const prefix = `bench.${tag}`;
  const main = await deps.createMain();
  await deps.waitForProjections(deps.projections);
  const nc = await connect({ servers: deps.natsUrl, name: 'accountable-bench' });
  const jsm = await jetstreamManager(nc);
  const leader = new pg.Client({ connectionString: deps.url, application_name: 'bench-sink-leader' });
  await leader.connect();
  try {
    const sink = await createSink(url, main, 'nats', { servers: [deps.natsUrl], subject_prefix: prefix, stream });
    const name = `sink:${sink}`;
    // Leadership first, subscription second: the service cannot start delivering before the backlog is written.
    const locked = await leader.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${ADVISORY_LOCK_CLASS.projectionLeader}, hashtext($1)) AS ok`, [name]);
    if (!locked.rows[0].ok) throw new Error(`could not take the leadership of ${name}`);
    const subscription = await subscribe(url, main, sink);

    const events = await writeBacklog(url, main, plan, deps);
    await deps.waitForProjections(deps.projections);
    deps.log(`  streams: ${events} account events waiting for the NATS sink ${sink} (stream ${stream})`);

    const released = Date.now();
    await leader.query(`SELECT pg_advisory_unlock(${ADVISORY_LOCK_CLASS.projectionLeader}, hashtext($1))`, [name]);
    await deps.waitForProjections([name], 300_000);
    const sinkWallMs = Date.now() - released;
    const sinkInfo = await jsm.streams.info(stream);
    const stored = sinkInfo.state.messages;
    const sinkPerSecond = rate(stored, sinkInfo.state.first_ts, sinkInfo.state.last_ts);

    // The same messages, read back in order, for the bare client; then the sink goes, and its stream.
    const messages = await readStream(jsm, stream, stored);
    await removeSink(url, main, { sink, subscription });
    await jsm.streams.delete(stream);

    const bare = await publishBare(nc, jsm, `${stream}_BARE`, prefix, messages);
    const result: NatsThroughput = { events, stored, sinkPerSecond, barePerSecond: bare.perSecond, bareWallPerSecond: bare.wallPerSecond, sinkWallMs };
    deps.log(
      `  nats            sink ${sinkPerSecond.toFixed(0)} events/s (${stored} of ${events} stored; ${sinkWallMs} ms from release to checkpoint), bare client ${bare.perSecond.toFixed(0)}/s (${bare.wallPerSecond.toFixed(0)}/s by its own clock): ${(sinkPerSecond / bare.perSecond).toFixed(2)}×`,
    );
    return result;
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(`${stream}_BARE`).catch(() => undefined);
    await nc.close().catch(() => undefined);
    await leader.end().catch(() => undefined);
  }
}

/**
 * About `plan.natsEvents` events for the main account: subaccounts created (up to 900, below
 * its limit of 1000), then renamed in turn. Returns the events the sink is due: one per 2xx.
 */
async function writeBacklog(url: string, main: StreamsMain, plan: StreamsPlan, deps: StreamsDeps): Promise<number> {
  const subaccounts = Math.min(900, Math.ceil(plan.natsEvents / 4));
  const auth = basic(main.sid, main.token);
  const form = { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' };
  const created = await runHttp(
    url,
    { method: 'POST', build: (n) => ({ path: '/2010-04-01/Accounts.json', headers: form, body: `FriendlyName=nats+backlog+${n}` }) },
    { connections: plan.connections, seconds: 120, maxRequests: subaccounts },
  );
  const { rows } = await deps.pool.query<{ sid: string }>(
    `SELECT stream_id AS sid FROM events WHERE type = 'SubaccountCreated' AND data->>'ownerAccountSid' = $1`,
    [main.sid],
  );
  const sids = rows.map((r) => r.sid.slice(ACCOUNT_STREAM_PREFIX.length));
  const renamed = await runHttp(
    url,
    { method: 'POST', build: (n) => ({ path: `/2010-04-01/Accounts/${sids[n % sids.length]}.json`, headers: form, body: `FriendlyName=renamed+${n}` }) },
    { connections: plan.connections, seconds: 300, maxRequests: Math.max(plan.natsEvents - created.ok, 0) },
  );
  if (created.non2xx + created.errors + renamed.non2xx + renamed.errors > 0) {
    deps.log(`  streams: backlog requests failed: ${created.non2xx + renamed.non2xx} non-2xx, ${created.errors + renamed.errors} errors`);
  }
  return created.ok + renamed.ok;
}

interface Message {
  subject: string;
  id: string;
  payload: Uint8Array;
}

async function readStream(jsm: JetStreamManager, stream: string, count: number): Promise<Message[]> {
  const messages: Message[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const stored = await jsm.streams.getMessage(stream, { seq });
    if (!stored) throw new Error(`${stream} has no message ${seq}`);
    messages.push({ subject: stored.subject, id: stored.header.get('Nats-Msg-Id'), payload: stored.data });
  }
  return messages;
}

/** As NatsSink.publish does: the stream as NatsSink creates it, then each message acknowledged before the next. */
async function publishBare(nc: NatsConnection, jsm: JetStreamManager, stream: string, prefix: string, messages: readonly Message[]) {
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`], duplicate_window: NATS_DUPLICATE_WINDOW_MS * 1_000_000 });
  const js = jetstream(nc, { timeout: 5000 });
  const started = performance.now();
  for (const message of messages) {
    const h = natsHeaders();
    h.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
    await js.publish(message.subject, message.payload, { msgID: message.id, headers: h });
  }
  const seconds = (performance.now() - started) / 1000;
  const info = await jsm.streams.info(stream);
  if (info.state.messages !== messages.length) throw new Error(`the bare stream holds ${info.state.messages} of ${messages.length} messages`);
  await jsm.streams.delete(stream);
  return { perSecond: rate(info.state.messages, info.state.first_ts, info.state.last_ts), wallPerSecond: messages.length / seconds };
}

/** Messages per second between a stream's first and last message (the server's times, nanoseconds in the text). */
function rate(messages: number, first: string, last: string): number {
  const seconds = (nanos(last) - nanos(first)) / 1e9;
  return messages > 1 && seconds > 0 ? (messages - 1) / seconds : NaN;
}

/** An RFC 3339 time with up to nine fraction digits → nanoseconds since the epoch (as a double: enough for a difference). */
function nanos(text: string): number {
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) return NaN;
  return Date.parse(`${match[1]}${match[3]}`) * 1e6 + Number((match[2] ?? '').padEnd(9, '0').slice(0, 9));
}
