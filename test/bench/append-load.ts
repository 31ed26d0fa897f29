import { randomBytes, randomUUID } from 'node:crypto';
import { getPostgreSQLEventStore, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import { createKysely } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import pg from 'pg';
import { migrations } from '../../db/migrations';
import { closedLoop, median, type LoopResult } from './closed-loop';
import { WaitSampler } from './wait-sampler';

/**
 * The three appenders share one database but write to their own schema, `bench_append`, so
 * that the service's event log (public) stays free of bench events: the projections and the
 * rebuild measured later see account events only.
 */
export const APPEND_SCHEMA = 'bench_append';

export interface Appender {
  name: 'ours' | 'emmett' | 'raw';
  append(index: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A pool whose sessions resolve unqualified names in `schema` (the event store's SQL is
 * unqualified): createPool's settings, plus search_path as a connection option.
 */
function schemaPool(url: string, schema: string, max: number, applicationName: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    options: `-c search_path=${schema} -c idle_in_transaction_session_timeout=10000`,
  });
  pool.on('error', () => undefined);
  return pool;
}

/**
 * A payload shaped like SubaccountCreated and its metadata: ids, a name, a sealed token. The
 * same for every appender.
 */
export function payload(index: number): { data: Record<string, unknown>; metadata: Record<string, unknown> } {
  const sid = `AC${randomBytes(16).toString('hex')}`;
  return {
    data: {
      sid,
      ownerAccountSid: 'AC0123456789abcdef0123456789abcdef',
      friendlyName: `bench account ${index}`,
      type: 'Full',
      authToken: `v1.${randomBytes(60).toString('base64url')}`,
    },
    metadata: {
      correlationId: randomUUID(),
      actorType: 'account',
      actorSid: 'AC0123456789abcdef0123456789abcdef',
      source: 'api',
      sourceIp: '127.0.0.1',
      userAgent: 'accountable-bench',
      requestId: `RQ${randomBytes(16).toString('hex')}`,
    },
  };
}

/** Creates `bench_append` with our event store (0001, append_to_stream as 0006 and then 0009, its current definition, left it, and 0018's append_to_streams) and a plain table like `events`. */
export async function prepareAppendSchema(url: string, admin: pg.Pool): Promise<void> {
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${APPEND_SCHEMA}`);
  const pool = schemaPool(url, APPEND_SCHEMA, 1, 'accountable-bench');
  const db = createKysely(pool);
  await migrations['0001_event_store'].up(db);
  await migrations['0006_append_without_notify'].up(db);
  // In a transaction, as the migrator runs it (it locks `events` while it reads where it took effect).
  await db.transaction().execute((trx) => migrations['0009_recorded_at_after_lock'].up(trx));
  // The shared commits' function (EventStore.append without a transaction uses it).
  await migrations['0018_append_to_streams'].up(db);
  // Same columns, defaults, constraints and indexes as `events` (LIKE … INCLUDING ALL copies
  // the identity, the xid8 default, both unique keys and both indexes; not the triggers).
  await pool.query('CREATE TABLE raw_events (LIKE events INCLUDING ALL)');
  await db.destroy();
}

export async function openAppenders(url: string, concurrency: number): Promise<Appender[]> {
  const oursPool = schemaPool(url, APPEND_SCHEMA, concurrency, 'bench-ours');
  const store = new EventStore(createKysely(oursPool));
  const ours: Appender = {
    name: 'ours',
    append: async (index) => {
      const { data, metadata } = payload(index);
      await store.append(`bench-${randomUUID()}`, [{ type: 'BenchEvent', data, metadata }], 'no_stream');
    },
    close: () => oursPool.end(),
  };

  const rawPool = schemaPool(url, APPEND_SCHEMA, concurrency, 'bench-raw');
  const raw: Appender = {
    name: 'raw',
    append: async (index) => {
      const { data, metadata } = payload(index);
      await rawPool.query(
        'INSERT INTO raw_events (stream_id, stream_version, event_id, type, schema_version, data, metadata) VALUES ($1, 1, $2, $3, 1, $4, $5)',
        [`bench-${randomUUID()}`, randomUUID(), 'BenchEvent', JSON.stringify(data), JSON.stringify(metadata)],
      );
    },
    close: () => rawPool.end(),
  };

  const emmettPool = schemaPool(url, APPEND_SCHEMA, concurrency, 'bench-emmett');
  const emmettStore: PostgresEventStore = getPostgreSQLEventStore(url, { connectionOptions: { pool: emmettPool } });
  await emmettStore.schema.migrate();
  const emmett: Appender = {
    name: 'emmett',
    append: async (index) => {
      const { data, metadata } = payload(index);
      // Emmett 0.42 does not check STREAM_DOES_NOT_EXIST in PostgreSQL (it passes no expected
      // position, so a second "new" append to a stream succeeds); expecting version 0n makes it
      // insert the stream row, whose primary key refuses an existing stream: our 'no_stream'.
      await emmettStore.appendToStream(`bench-${randomUUID()}`, [{ type: 'BenchEvent', data, metadata }], { expectedStreamVersion: 0n });
    },
    close: async () => {
      await emmettStore.close().catch(() => undefined);
      await emmettPool.end().catch(() => undefined);
    },
  };
  return [raw, ours, emmett];
}

/** Checks that each appender refuses a second 'new stream' append to the same stream. */
export async function checkNoStreamSemantics(url: string): Promise<Record<string, boolean>> {
  const pool = schemaPool(url, APPEND_SCHEMA, 1, 'bench-check');
  const store = new EventStore(createKysely(pool));
  const emmettStore = getPostgreSQLEventStore(url, { connectionOptions: { pool } });
  const refuses = async (append: () => Promise<unknown>) => {
    await append();
    return append().then(
      () => false,
      () => true,
    );
  };
  const stream = () => `bench-check-${randomUUID()}`;
  const oursStream = stream();
  const emmettStream = stream();
  const result = {
    ours: await refuses(() => store.append(oursStream, [{ type: 'BenchEvent', data: {} }], 'no_stream')),
    emmett: await refuses(() => emmettStore.appendToStream(emmettStream, [{ type: 'BenchEvent', data: {} }], { expectedStreamVersion: 0n })),
  };
  await pool.end();
  return result;
}

export interface AppendResults {
  perSecond: Record<Appender['name'], number>;
  rounds: Record<Appender['name'], LoopResult[]>;
  /** Where the server sessions of each appender waited (share of samples). */
  waits: Record<Appender['name'], Record<string, number>>;
}

/**
 * Each appender in turn, `rounds` times, alternating the order so that none always runs on the
 * warmest (or most bloated) server; the median round counts.
 */
export async function runAppendLoad(
  url: string,
  options: { concurrency: number; seconds: number; rounds: number; log: (m: string) => void; monitor: pg.Pool },
): Promise<AppendResults> {
  const appenders = await openAppenders(url, options.concurrency);
  const rounds: AppendResults['rounds'] = { ours: [], emmett: [], raw: [] };
  const samplers = new Map(appenders.map((a) => [a.name, new WaitSampler(options.monitor, [`bench-${a.name}`])]));
  try {
    for (const appender of appenders) {
      await closedLoop({ concurrency: options.concurrency, seconds: 1 }, (_w, i) => appender.append(i)); // warm-up
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? appenders : [...appenders].reverse();
      for (const appender of order) {
        samplers.get(appender.name)!.start();
        const result = await closedLoop({ concurrency: options.concurrency, seconds: options.seconds }, (_w, i) => appender.append(i));
        const waits = samplers.get(appender.name)!.stop();
        if (result.errors) options.log(`  ${appender.name}: ${result.errors} errors, first: ${result.firstError}`);
        options.log(
          `  round ${round + 1} ${appender.name.padEnd(6)} ${result.perSecond.toFixed(0).padStart(6)}/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  db so far: ${Object.entries(waits).slice(0, 2).map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`).join(', ')}`,
        );
        rounds[appender.name].push(result);
      }
    }
  } finally {
    for (const appender of appenders) await appender.close().catch(() => undefined);
  }
  const perSecond = {
    ours: median(rounds.ours.map((r) => r.perSecond)),
    emmett: median(rounds.emmett.map((r) => r.perSecond)),
    raw: median(rounds.raw.map((r) => r.perSecond)),
  };
  const waits = Object.fromEntries([...samplers].map(([name, sampler]) => [name, sampler.stop()])) as AppendResults['waits'];
  return { perSecond, rounds, waits };
}
