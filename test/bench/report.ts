export interface Metrics {
  append_per_s: number;
  emmett_append_per_s: number;
  raw_insert_per_s: number;
  http_create_per_s: number;
  http_create_p99_ms: number;
  baseline_http_insert_per_s: number;
  http_get_per_s: number;
  http_get_p99_ms: number;
  baseline_http_get_per_s: number;
  projection_lag_p99_ms: number;
  rebuild_events_per_s: number;
  rebuild_peak_rss_mb: number;
  ledger_rebuild_events_per_s: number;
  ledger_verify_events_per_s: number;
  ledger_verify_peak_rss_mb: number;
  /**
   * Statements the database ran per successful create during the create load, the service's and
   * its projectors' together (pg_stat_statements calls, top-level statements, less the bench's own
   * probes); NaN when pg_stat_statements is not loaded (a DATABASE_URL server without it).
   */
  statements_per_create: number;
  /** The service process's CPU time (user + system, /proc) per successful create under load (ms). */
  service_cpu_ms_per_create: number;
  ledger_off_append_per_s: number;
  ledger_on_append_per_s: number;
  ledger_off_http_create_per_s: number;
  ledger_on_http_create_per_s: number;
  ledger_lag_p99_ms: number;
  ledger_lag_max_ms: number;
  ledger_catch_up_ms: number;
  /** Event Streams (issue 19): commit → a webhook receiver, under the create load. */
  streams_webhook_lag_p50_ms: number;
  streams_webhook_lag_p99_ms: number;
  streams_webhook_lag_max_ms: number;
  streams_webhook_events_per_s: number;
  /** Subaccounts created by that load whose AccountCreated never reached the receiver (must be 0). */
  streams_webhook_missing: number;
  /** A backlog delivered by one NATS sink, and the same messages published by the client alone. */
  streams_nats_events_per_s: number;
  streams_nats_bare_client_events_per_s: number;
  streams_nats_vs_bare: number;
}

export interface Target {
  name: string;
  /** What is compared: a ratio of two metrics, or one metric. */
  measured: number;
  unit: 'x' | 'ms' | 'events/s' | 'MB' | 'statements';
  bound: number;
  /** `min`: measured must be ≥ bound; `max`: ≤ bound. */
  kind: 'min' | 'max';
  pass: boolean;
}

const target = (name: string, measured: number, unit: Target['unit'], kind: Target['kind'], bound: number): Target => ({
  name,
  measured,
  unit,
  bound,
  kind,
  pass: Number.isFinite(measured) && (kind === 'min' ? measured >= bound : measured <= bound),
});

/** The "this issue" column of issue 13 (its "goal beyond": create 0.5× and p99 25 ms, GET 1.0× and 8 ms, append 2×, lag 20 ms). */
export function targets(m: Metrics): Target[] {
  return [
    target('append vs raw INSERT', m.append_per_s / m.raw_insert_per_s, 'x', 'min', 1.0),
    target('append vs Emmett', m.append_per_s / m.emmett_append_per_s, 'x', 'min', 2.5),
    target('HTTP create vs bare INSERT endpoint', m.http_create_per_s / m.baseline_http_insert_per_s, 'x', 'min', 0.3),
    target('HTTP create p99', m.http_create_p99_ms, 'ms', 'max', 50),
    target('statements per create', m.statements_per_create, 'statements', 'max', 4),
    target('HTTP get vs bare SELECT endpoint', m.http_get_per_s / m.baseline_http_get_per_s, 'x', 'min', 0.8),
    target('HTTP get p99', m.http_get_p99_ms, 'ms', 'max', 10),
    target('projection lag p99', m.projection_lag_p99_ms, 'ms', 'max', 50),
    target('rebuild throughput', m.rebuild_events_per_s, 'events/s', 'min', 50_000),
    target('rebuild peak RSS', m.rebuild_peak_rss_mb, 'MB', 'max', 256),
    target('ledger verify throughput', m.ledger_verify_events_per_s, 'events/s', 'min', 100_000),
    target('ledger verify peak RSS', m.ledger_verify_peak_rss_mb, 'MB', 'max', 256),
    // Issue 16: the ledger costs at most 10 % of append and create throughput, and keeps up.
    target('append with the ledger on vs off', m.ledger_on_append_per_s / m.ledger_off_append_per_s, 'x', 'min', 0.9),
    target('HTTP create with the ledger on vs off', m.ledger_on_http_create_per_s / m.ledger_off_http_create_per_s, 'x', 'min', 0.9),
    target('ledger lag p99', m.ledger_lag_p99_ms, 'ms', 'max', 100),
  ];
}

const LABELS: Record<keyof Metrics, string> = {
  append_per_s: 'EventStore.append, 16 writers, new streams (/s)',
  emmett_append_per_s: 'Emmett appendToStream, same load (/s)',
  raw_insert_per_s: 'plain pg INSERT into a table like events (/s)',
  http_create_per_s: 'POST /Accounts.json, c=32 (/s)',
  http_create_p99_ms: 'POST /Accounts.json p99 (ms)',
  baseline_http_insert_per_s: 'bare Fastify + pg INSERT, c=32 (/s)',
  http_get_per_s: 'GET /Accounts/{Sid}.json, c=32 (/s)',
  http_get_p99_ms: 'GET /Accounts/{Sid}.json p99 (ms)',
  baseline_http_get_per_s: 'bare Fastify + pg SELECT by key, c=32 (/s)',
  projection_lag_p99_ms: 'commit → visible in audit_history p99 (ms)',
  rebuild_events_per_s: 'projection rebuild, slower of accounts/audit (events/s)',
  rebuild_peak_rss_mb: 'projection rebuild peak RSS, larger of the two (MB)',
  ledger_rebuild_events_per_s: 'projections rebuild ledger: hashing and the tree (events/s)',
  ledger_verify_events_per_s: 'ledger verify: every hash and the tree recomputed, compared (events/s)',
  ledger_verify_peak_rss_mb: 'ledger verify peak RSS (MB)',
  statements_per_create: 'statements per create under load, service + projectors (pg_stat_statements)',
  service_cpu_ms_per_create: 'service process CPU per create under load, its in-process projectors included (ms)',
  ledger_off_append_per_s: 'EventStore.append into the service\'s log, 16 writers, service running with LEDGER=off (/s)',
  ledger_on_append_per_s: 'the same with LEDGER=on (/s)',
  ledger_off_http_create_per_s: 'POST /Accounts.json, c=32, LEDGER=off (/s)',
  ledger_on_http_create_per_s: 'the same with LEDGER=on (/s)',
  ledger_lag_p99_ms: 'commit → in the ledger\'s tree p99, under that create load (ms)',
  ledger_lag_max_ms: 'the same, the largest (ms)',
  ledger_catch_up_ms: 'create load\'s end → ledger checkpoint at the newest event (ms; stays small if the ledger keeps up)',
  streams_webhook_lag_p50_ms: 'commit → CloudEvent at a webhook receiver p50, one sink per main account, under the create load (ms)',
  streams_webhook_lag_p99_ms: 'the same, p99 (ms)',
  streams_webhook_lag_max_ms: 'the same, the largest (ms)',
  streams_webhook_events_per_s: 'CloudEvents received during that load (/s; the load\'s rate when delivery keeps up)',
  streams_webhook_missing: 'creations of that load never delivered (must be 0)',
  streams_nats_events_per_s: 'NATS sink delivering a backlog into JetStream, one sink (events/s)',
  streams_nats_bare_client_events_per_s: '@nats-io/jetstream alone, the same messages, acknowledged one by one as the sink does (/s)',
  streams_nats_vs_bare: 'NATS sink ÷ bare client (×)',
};

export function fmt(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Figures printed with more digits than their unit suggests. */
const DIGITS: Partial<Record<keyof Metrics, number>> = { statements_per_create: 1, service_cpu_ms_per_create: 2, streams_nats_vs_bare: 2 };

export function formatMetrics(m: Metrics): string {
  const lines = ['| metric | value | what |', '|---|---:|---|'];
  for (const key of Object.keys(LABELS) as (keyof Metrics)[]) {
    const value = m[key];
    lines.push(`| \`${key}\` | ${fmt(value, DIGITS[key] ?? (key.endsWith('_ms') || key.endsWith('_mb') ? 1 : 0))} | ${LABELS[key]} |`);
  }
  return lines.join('\n');
}

export function formatTargets(list: readonly Target[]): string {
  const lines = ['| target | measured | required | |', '|---|---:|---:|---|'];
  for (const t of list) {
    const measured = t.unit === 'x' ? `${fmt(t.measured, 2)}×` : `${fmt(t.measured, t.unit === 'events/s' ? 0 : 1)} ${t.unit}`;
    const bound = `${t.kind === 'min' ? '≥' : '≤'} ${t.unit === 'x' ? `${t.bound}×` : `${fmt(t.bound)} ${t.unit}`}`;
    lines.push(`| ${t.name} | ${measured} | ${bound} | ${t.pass ? 'PASS' : 'MISS'} |`);
  }
  return lines.join('\n');
}
