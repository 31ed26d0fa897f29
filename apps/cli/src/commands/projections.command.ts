import { Inject } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore, ProjectionAdmin, type Projection, type RebuildableProjection, type RetryOutcome } from '@accountable/event-store';
import { LEDGER_OFF_MESSAGE } from '@accountable/ledger';
import { SinkNotRetryableError, SinkRedelivery, SinkSenders, SinkStateStore } from '@accountable/event-streams';
import { DB, PROJECTIONS, RUNTIME, type Runtime } from '@accountable/platform';
import { CliOutput, usageError, visible } from '../cli-output';

/** Error text from a parked event may quote the event's own content: one line, never a raw control character. */
const printable = (text: string) => visible(text, { inline: true });

@SubCommand({ name: 'status', description: "each projection's checkpoint, lag (events and seconds) and parked events; each Event Streams sink's delivery too" })
export class ProjectionsStatusCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean }): Promise<void> {
    // Each Event Streams sink is delivered as a projection of its own (`sink:DG…`).
    const sinks = new Map((await new SinkStateStore(this.db).deliveryStatus()).map((s) => [s.name, s]));
    const statuses = await new ProjectionAdmin(this.db, this.store).status([...this.projections.map((p) => p.name), ...sinks.keys()]);
    this.out.result(
      options,
      statuses.map((s) => {
        const sink = sinks.get(s.name);
        return {
          name: s.name,
          checkpoint: { transaction_id: s.checkpoint.transactionId, global_position: s.checkpoint.globalPosition },
          lag_events: s.lagEvents,
          lag_seconds: Number(s.lagSeconds.toFixed(3)),
          updated_at: s.updatedAt?.toISOString() ?? null,
          parked: s.parked,
          ...(sink
            ? {
                sink: {
                  status: sink.status,
                  delivered: sink.delivered,
                  dropped: sink.dropped,
                  failing_attempts: sink.failingAttempts,
                  last_failure_code: sink.lastFailureCode,
                  last_failure_at: sink.lastFailureAt?.toISOString() ?? null,
                },
              }
            : {}),
        };
      }),
      () =>
        [
          'projection                            position        lag (events)  lag (s)  parked',
          ...statuses.map(
            (s) =>
              `${s.name.padEnd(37)} ${`${s.checkpoint.transactionId}/${s.checkpoint.globalPosition}`.padEnd(15)} ${String(s.lagEvents).padStart(12)}  ${s.lagSeconds.toFixed(1).padStart(7)}  ${String(s.parked).padStart(6)}`,
          ),
          ...(sinks.size > 0
            ? [
                '',
                'sink                                  status      delivered  dropped  failing  last failure',
                ...[...sinks.values()].map(
                  (s) =>
                    `${s.sid.padEnd(37)} ${s.status.padEnd(10)} ${String(s.delivered).padStart(10)} ${String(s.dropped).padStart(8)} ${String(s.failingAttempts).padStart(8)}  ${s.lastFailureCode ? `${s.lastFailureCode} at ${s.lastFailureAt?.toISOString()}` : '-'}`,
                ),
              ]
            : []),
          ...(statuses.some((s) => s.parked > 0) ? ['', 'events parked: see `projections parked`, and `projections retry NAME [POSITION]` after a fix'] : []),
        ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

@SubCommand({ name: 'rebuild', arguments: '<name>', description: 'rebuild a projection from position zero, blue-green, without downtime' })
export class ProjectionsRebuildCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([name]: string[], options: { json?: boolean; batchSize?: number }): Promise<void> {
    const rebuildable = this.projections.filter((p): p is RebuildableProjection => Array.isArray((p as RebuildableProjection).tables));
    const projection = rebuildable.find((p) => p.name === name);
    if (!projection && name === 'ledger') throw usageError(LEDGER_OFF_MESSAGE); // left out of the list (projectionsProvider)
    if (!projection) throw usageError(`unknown projection ${name ?? '(missing)'}; rebuildable: ${rebuildable.map((p) => p.name).join(', ')}`);
    // The bar draws on stderr, so --json keeps stdout clean.
    const bar = new SingleBar({
      format: `rebuild ${name} [{bar}] {percentage}% | {value}/{total} events | {speed} events/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      noTTYOutput: !options.json,
      notTTYSchedule: 2000,
    });
    const started = Date.now();
    bar.start(1, 0, { speed: 0 });
    // The bar's timer would keep a failed rebuild's process alive: stopped whatever happens.
    const result = await new ProjectionAdmin(this.db, this.store)
      .rebuild(projection, options.batchSize ?? 5000, ({ applied, total }) => {
        const seconds = Math.max((Date.now() - started) / 1000, 0.001);
        bar.setTotal(total);
        bar.update(applied, { speed: Math.round(applied / seconds) });
      })
      .finally(() => bar.stop());
    const seconds = (Date.now() - started) / 1000;
    this.out.result(
      options,
      {
        projection: name,
        events: result.applied,
        seconds,
        events_per_second: Math.round(result.applied / Math.max(seconds, 0.001)),
        parked: result.parked.map((p) => ({
          position: { transaction_id: p.position.transactionId, global_position: p.position.globalPosition },
          event_id: p.eventId,
          event_type: p.eventType,
          error_code: p.errorCode,
          error: p.error,
        })),
      },
      () =>
        [
          `rebuilt ${name}: ${result.applied} events in ${seconds.toFixed(1)} s, switched atomically`,
          ...(result.parked.length
            ? [
                `${result.parked.length} event(s) could not be applied and are parked (the rebuilt tables lack them; \`projections retry ${name}\` after a fix):`,
                ...result.parked.map((p) => `  ${p.position.transactionId}/${p.position.globalPosition}  ${p.eventId}  ${p.eventType}  ${p.errorCode ?? ''}: ${printable(p.error)}`),
              ]
            : []),
        ].join('\n'),
    );
  }

  @Option({ flags: '--batch-size <n>', description: 'events per batch (default 5000)' })
  parseBatchSize(value: string): number {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw usageError(`--batch-size needs a positive integer, not ${value}`);
    return Number(value);
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

@SubCommand({ name: 'parked', arguments: '[name]', description: 'events a projection could not apply and set aside (all projections, or one)' })
export class ProjectionsParkedCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([name]: string[], options: { json?: boolean }): Promise<void> {
    if (name !== undefined && !SINK_PROJECTION.test(name)) projectionNamed(this.projections, name);
    const parked = await new ProjectionAdmin(this.db, this.store).listParked(name);
    this.out.result(
      options,
      parked.map((p) => ({
        projection: p.projection,
        position: { transaction_id: p.position.transactionId, global_position: p.position.globalPosition },
        event_id: p.eventId,
        event_type: p.eventType,
        error_code: p.errorCode,
        error: p.error,
        attempts: p.attempts,
        parked_at: p.parkedAt.toISOString(),
        last_attempt_at: p.lastAttemptAt.toISOString(),
      })),
      () =>
        parked.length === 0
          ? `no parked events${name ? ` in ${name}` : ''}`
          : [
              'projection      position        event id                              type                   attempts  parked at                 error',
              ...parked.map(
                (p) =>
                  `${p.projection.padEnd(15)} ${`${p.position.transactionId}/${p.position.globalPosition}`.padEnd(15)} ${p.eventId.padEnd(37)} ${p.eventType.padEnd(22)} ${String(p.attempts).padStart(8)}  ${p.parkedAt.toISOString().padEnd(25)} ${p.errorCode ?? ''}: ${printable(p.error)}`,
              ),
            ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

@SubCommand({
  name: 'retry',
  arguments: '<name> [position]',
  description: "apply a projection's parked events again after a fix (all, in feed order, or the one at a global position), each exactly once",
})
export class ProjectionsRetryCommand extends CommandRunner {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    private readonly out: CliOutput,
    private readonly senders: SinkSenders,
    @Inject(RUNTIME) private readonly runtime: Runtime,
  ) {
    super();
  }

  async run([name, position]: string[], options: { json?: boolean }): Promise<void> {
    if (position !== undefined && !/^[1-9]\d{0,15}$/.test(position)) throw usageError(`the position is a global position (a positive integer), not ${position}`);
    const at = position === undefined ? undefined : Number(position);
    let outcomes: RetryOutcome[];
    const sinkSid = SINK_PROJECTION.exec(name ?? '')?.[1];
    if (sinkSid !== undefined) {
      const outcome = await this.redeliver(sinkSid, at);
      if (outcome === null) return;
      outcomes = outcome;
    } else {
      outcomes = await new ProjectionAdmin(this.db, this.store).retryParked(projectionNamed(this.projections, name), at);
    }
    if (position !== undefined && outcomes.length === 0) {
      this.out.fail(`no event is parked at position ${position} in ${name}`);
      return;
    }
    const stillParked = outcomes.filter((o) => o.outcome === 'failed');
    this.out.result(
      options,
      outcomes.map((o) => ({
        position: { transaction_id: o.position.transactionId, global_position: o.position.globalPosition },
        event_id: o.eventId,
        event_type: o.eventType,
        outcome: o.outcome,
        ...(o.outcome === 'failed' ? { error_code: o.errorCode ?? null, error: o.error } : {}),
      })),
      () =>
        outcomes.length === 0
          ? `no parked events in ${name}`
          : outcomes
              .map((o) => {
                const at = `${o.position.transactionId}/${o.position.globalPosition} ${o.eventId} ${o.eventType}`;
                if (o.outcome === 'applied') return `applied ${at}`;
                if (o.outcome === 'gone') return `already retried ${at}`;
                return `still failing, stays parked: ${at}  ${o.errorCode ?? ''}: ${printable(o.error ?? '')}`;
              })
              .join('\n'),
    );
    // Still failing is not a success: scripts see it in the exit code.
    if (stillParked.length > 0) process.exitCode = 1;
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }

  /** A sink's parked deliveries, sent again (SinkRedelivery); null when the sink cannot take them now (said on stderr). */
  private async redeliver(sinkSid: string, position: number | undefined): Promise<RetryOutcome[] | null> {
    // The CloudEvents carry the service's URLs: sent from here, they must carry the same ones.
    const base = this.runtime.config.PUBLIC_URL;
    if (!base) throw usageError('set PUBLIC_URL to the service’s public address: redelivered events carry its URLs, as delivered ones do');
    try {
      return await new SinkRedelivery(this.db, this.store, this.senders, base).retry(sinkSid, position);
    } catch (error) {
      if (!(error instanceof SinkNotRetryableError)) throw error;
      this.out.fail(error.message);
      return null;
    } finally {
      // The command is the process's last work: its kept-alive connections need not wait for Nest's shutdown.
      this.senders.onApplicationShutdown();
    }
  }
}

/** An Event Streams sink's delivery projection (not in PROJECTIONS: one per sink, run by the delivery service). */
const SINK_PROJECTION = /^sink:(DG[0-9a-f]{32})$/;

function projectionNamed(projections: readonly Projection[], name: string | undefined): Projection {
  const projection = projections.find((p) => p.name === name);
  if (!projection) throw usageError(`unknown projection ${name ?? '(missing)'}; projections: ${projections.map((p) => p.name).join(', ')}`);
  return projection;
}

@Command({
  name: 'projections',
  description: 'projection status, parked events, retries and rebuilds',
  subCommands: [ProjectionsStatusCommand, ProjectionsParkedCommand, ProjectionsRetryCommand, ProjectionsRebuildCommand],
})
export class ProjectionsCommand extends CommandRunner {
  async run(): Promise<void> {
    throw usageError('use: projections status | projections parked [name] | projections retry <name> [position] | projections rebuild <name>');
  }
}
