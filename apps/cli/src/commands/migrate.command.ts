import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import { migrateToLatest, pendingMigrations } from '@accountable/database';
import { RUNTIME, type Runtime } from '@accountable/platform';
import { CliOutput } from '../cli-output';

@Command({ name: 'migrate', description: 'apply pending database migrations' })
export class MigrateCommand extends CommandRunner {
  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean }): Promise<void> {
    const applied = await migrateToLatest(this.runtime.db);
    const pending = await pendingMigrations(this.runtime.db);
    this.out.result(options, { applied, pending }, () =>
      applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date',
    );
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
