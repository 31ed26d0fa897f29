import { QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { VerifyReadModelQuery } from '@accountable/accounts';
import { CliOutput } from '../cli-output';

/** Folds every stream and compares it with the read model. Exit code 1 when anything drifted. */
@Command({ name: 'verify', description: 'check the account read model against the event log (exit 1 on drift)' })
export class VerifyCommand extends CommandRunner {
  constructor(
    private readonly queries: QueryBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean }): Promise<void> {
    const report = await this.queries.execute(new VerifyReadModelQuery());
    this.out.result(options, { accounts_checked: report.accountsChecked, drift: report.drifts, ok: report.drifts.length === 0 }, () =>
      report.drifts.length === 0
        ? `ok: ${report.accountsChecked} accounts match the log`
        : [
            `DRIFT: ${report.drifts.length} difference(s) in ${report.accountsChecked} accounts`,
            ...report.drifts.map((d) => `  ${d.sid} ${d.field}: log says ${JSON.stringify(d.expected)}, read model has ${JSON.stringify(d.actual)}`),
          ].join('\n'),
    );
    if (report.drifts.length) process.exitCode = 1;
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
