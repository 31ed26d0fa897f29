import { Inject } from '@nestjs/common';
import { SingleBar } from 'cli-progress';
import { Command, CommandRunner, Option, SubCommand } from 'nest-commander';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import { DB } from '@accountable/platform';
import { PROJECTIONS, ProjectionAdmin, type Projection, type RebuildableProjection } from '@accountable/projections';
import { CliOutput, usageError } from '../cli-output';

@SubCommand({ name: 'status', description: "each projection's checkpoint and lag (events and seconds)" })
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
    const statuses = await new ProjectionAdmin(this.db, this.store).status(this.projections.map((p) => p.name));
    this.out.result(
      options,
      statuses.map((s) => ({
        name: s.name,
        checkpoint: { transaction_id: s.checkpoint.transactionId, global_position: s.checkpoint.globalPosition },
        lag_events: s.lagEvents,
        lag_seconds: Number(s.lagSeconds.toFixed(3)),
        updated_at: s.updatedAt?.toISOString() ?? null,
      })),
      () =>
        [
          'projection      position        lag (events)  lag (s)',
          ...statuses.map(
            (s) =>
              `${s.name.padEnd(15)} ${`${s.checkpoint.transactionId}/${s.checkpoint.globalPosition}`.padEnd(15)} ${String(s.lagEvents).padStart(12)}  ${s.lagSeconds.toFixed(1).padStart(7)}`,
          ),
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
    const result = await new ProjectionAdmin(this.db, this.store).rebuild(projection, options.batchSize ?? 5000, ({ applied, total }) => {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      bar.setTotal(total);
      bar.update(applied, { speed: Math.round(applied / seconds) });
    });
    bar.stop();
    const seconds = (Date.now() - started) / 1000;
    this.out.result(options, { projection: name, events: result.applied, seconds, events_per_second: Math.round(result.applied / Math.max(seconds, 0.001)) }, () =>
      `rebuilt ${name}: ${result.applied} events in ${seconds.toFixed(1)} s, switched atomically`,
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

@Command({ name: 'projections', description: 'projection status and rebuilds', subCommands: [ProjectionsStatusCommand, ProjectionsRebuildCommand] })
export class ProjectionsCommand extends CommandRunner {
  async run(): Promise<void> {
    throw usageError('use: projections status | projections rebuild <name>');
  }
}
