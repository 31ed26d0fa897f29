import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createKysely, createPool } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import type { ServiceProcess } from '../support/processes';
import { payload } from './append-load';
import { closedLoop, median, type LoopResult } from './closed-loop';
import { ProjectionLagProbe, checkpointVisible, runHttp, type HttpRequestSpec, type HttpResult, type LagResult } from './http-load';

/** Every projection of a service with the ledger on; LEDGER=off runs all but the last. */
export const PROJECTION_NAMES = ['accounts', 'owner-cascade', 'audit', 'ledger'] as const;
export const projectionsFor = (ledger: 'on' | 'off') => PROJECTION_NAMES.filter((name) => ledger === 'on' || name !== 'ledger');

export interface LedgerCostRun {
  ledger: 'on' | 'off';
  /** EventStore.append into the service's own log while its projectors run (new streams). */
  append: LoopResult;
  create: HttpResult;
  /** With the ledger on: commit → in the ledger's tree, for each SubaccountCreated of the create load. */
  lag?: LagResult;
  /** With the ledger on: from the create load's end until the ledger's checkpoint reached the newest event. */
  catchUpMs?: number;
}

export interface LedgerCost {
  runs: LedgerCostRun[];
  /** Medians over the runs of each setting. */
  appendPerSecond: { on: number; off: number };
  createPerSecond: { on: number; off: number };
  lagP99Ms: number;
  lagMaxMs: number;
  catchUpMs: number;
}

export interface LedgerCostPlan {
  rounds: number;
  writers: number;
  appendSeconds: number;
  connections: number;
  httpSeconds: number;
  warmupSeconds: number;
}

export interface LedgerCostDeps {
  pool: pg.Pool;
  url: string;
  commitTimestamps: boolean;
  env: Record<string, string>;
  startService(env: Record<string, string>): Promise<{ service: ServiceProcess; url: string }>;
  waitForProjections(names: readonly string[]): Promise<void>;
  creates: HttpRequestSpec;
  /** Shared with the other create loads: the main accounts' subaccount limit counts them all. */
  counter: { n: number };
  createCap: number;
  log(message: string): void;
}

/**
 * The ledger's cost (README "The ledger", issue 16: ≤ 10 %): the same append load and create load,
 * each against a service started with LEDGER=off and with LEDGER=on, in one run. The order
 * alternates by round (off, on, on, off, …) so that neither setting always meets the warmer or
 * the larger database. Appends go to the service's own log, as the API's do, so that its
 * projectors (the ledger among them) read, hash and store every one.
 */
export async function measureLedgerCost(plan: LedgerCostPlan, deps: LedgerCostDeps): Promise<LedgerCost> {
  const runs: LedgerCostRun[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const ledger of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const { service, url } = await deps.startService({ ...deps.env, LEDGER: ledger });
      try {
        const names = projectionsFor(ledger);
        await deps.waitForProjections(names);
        const append = await appendLoad(deps.url, plan);
        await deps.waitForProjections(names);
        const remaining = () => Math.max(deps.createCap - deps.counter.n, 0);
        await runHttp(url, deps.creates, { connections: plan.connections, seconds: plan.warmupSeconds, maxRequests: Math.floor(remaining() / 20), counter: deps.counter });
        await deps.waitForProjections(names);
        const probe = ledger === 'on' ? new ProjectionLagProbe(deps.pool, deps.commitTimestamps, 5, checkpointVisible('ledger')) : undefined;
        await probe?.start();
        const create = await runHttp(url, deps.creates, { connections: plan.connections, seconds: plan.httpSeconds, maxRequests: Math.floor(remaining() / 2), counter: deps.counter });
        const catchUpMs = ledger === 'on' ? await catchUp(deps.pool, 'ledger') : undefined;
        const lag = await probe?.stop();
        runs.push({ ledger, append, create, lag, catchUpMs });
        deps.log(
          `  ledger ${ledger.padEnd(3)}  append ${append.perSecond.toFixed(0)}/s (p99 ${append.p99Ms.toFixed(1)} ms)  create ${create.perSecond.toFixed(0)}/s (p99 ${create.p99Ms} ms)` +
            (lag ? `  ledger lag p50 ${lag.p50Ms.toFixed(1)} ms p99 ${lag.p99Ms.toFixed(1)} ms max ${lag.maxMs.toFixed(1)} ms (${lag.samples} creations, ${lag.unseen} unseen); caught up ${catchUpMs} ms after the load` : ''),
        );
      } finally {
        await service.stop();
      }
    }
  }
  const of = (ledger: 'on' | 'off', pick: (run: LedgerCostRun) => number) => median(runs.filter((r) => r.ledger === ledger).map(pick));
  const lags = runs.filter((r) => r.lag);
  return {
    runs,
    appendPerSecond: { on: of('on', (r) => r.append.perSecond), off: of('off', (r) => r.append.perSecond) },
    createPerSecond: { on: of('on', (r) => r.create.perSecond), off: of('off', (r) => r.create.perSecond) },
    lagP99Ms: Math.max(...lags.map((r) => r.lag!.p99Ms)),
    lagMaxMs: Math.max(...lags.map((r) => r.lag!.maxMs)),
    catchUpMs: Math.max(...lags.map((r) => r.catchUpMs!)),
  };
}

/** The append phase's load (SubaccountCreated-shaped payloads, one new stream each), on the public log. */
async function appendLoad(url: string, plan: LedgerCostPlan): Promise<LoopResult> {
  const pool = createPool(url, { max: plan.writers, applicationName: 'bench-ledger-append' });
  const store = new EventStore(createKysely(pool));
  try {
    return await closedLoop({ concurrency: plan.writers, seconds: plan.appendSeconds, maxOperations: 2_000_000 }, async (_w, index) => {
      const { data, metadata } = payload(index);
      await store.append(`bench-ledger-${randomUUID()}`, [{ type: 'BenchEvent', data, metadata }], 'no_stream');
    });
  } finally {
    await pool.end();
  }
}

/** Milliseconds until `projection`'s checkpoint reaches the newest event (bounded: 60 s). */
async function catchUp(pool: pg.Pool, projection: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < 60_000) {
    const { rows } = await pool.query<{ behind: boolean }>(
      `SELECT coalesce((SELECT (c.transaction_id, c.global_position) < (e.transaction_id, e.global_position) FROM projection_checkpoints c WHERE c.name = $1), true) AS behind
         FROM (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS e`,
      [projection],
    );
    if (!rows[0]?.behind) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  return Number.POSITIVE_INFINITY;
}
