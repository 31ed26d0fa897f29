import { QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { VerifyReadModelQuery } from '@accountable/accounts';
import { CliOutput } from '../cli-output';

/** Folds every stream and compares it with the read model, and opens every stored secret. Exit code 1 when anything drifted or does not open. */
@Command({ name: 'verify', description: 'check the account read model against the event log, and that every stored secret opens (exit 1 otherwise)' })
export class VerifyCommand extends CommandRunner {
  constructor(
    private readonly queries: QueryBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: { json?: boolean }): Promise<void> {
    const report = await this.queries.execute(new VerifyReadModelQuery());
    const inversions = report.oldTimeInversions;
    const unopenable = report.unopenableSecrets;
    const ok = report.drifts.length === 0 && report.unopenableCount === 0;
    this.out.result(
      options,
      {
        accounts_checked: report.accountsChecked,
        idempotency_answers_checked: report.idempotencyAnswersChecked,
        drift: report.drifts,
        // Secrets the keyring cannot open: a key missing from it, or an altered value.
        unopenable_secrets: unopenable,
        unopenable_secrets_total: report.unopenableCount,
        ok,
        // Information, not drift: events stored before migration 0009 (README "Time travel").
        old_time_inversions: inversions.map((i) => ({ sid: i.sid, version: i.version, recorded_at: i.recordedAt, previous_recorded_at: i.previousRecordedAt })),
      },
      () =>
        [
          ...(report.drifts.length === 0
            ? [`ok: ${report.accountsChecked} accounts match the log`]
            : [
                `DRIFT: ${report.drifts.length} difference(s) in ${report.accountsChecked} accounts`,
                ...report.drifts.map((d) => `  ${d.sid} ${d.field}: log says ${JSON.stringify(d.expected)}, read model has ${JSON.stringify(d.actual)}`),
              ]),
          ...(report.unopenableCount === 0
            ? [`ok: the keyring opens every stored secret (${report.accountsChecked} accounts, ${report.idempotencyAnswersChecked} idempotency answers)`]
            : [
                `SECRETS: ${report.unopenableCount} stored secret(s) do not open with the keyring (README: "Encryption keys")${report.unopenableCount > unopenable.length ? `; the first ${unopenable.length}` : ''}:`,
                ...unopenable.map((u) => `  ${u.sid} ${u.where}: ${u.reason}`),
              ]),
          ...(inversions.length === 0
            ? []
            : [
                `note: ${inversions.length} event(s) stored before migration 0009 are dated earlier than the version before them (time travel reads them in version order):`,
                ...inversions.map((i) => `  ${i.sid} v${i.version} at ${i.recordedAt}, after v${i.version - 1} at ${i.previousRecordedAt}`),
              ]),
        ].join('\n'),
    );
    if (!ok) process.exitCode = 1;
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
