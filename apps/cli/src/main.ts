import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { loadConfigOrExit } from '@accountable/config';
import { storedSecretsRefusal } from '@accountable/accounts';
import { openRuntime } from '@accountable/platform';
import { CliModule } from './cli.module';
import { visible } from './cli-output';

/**
 * Operator CLI. It opens the same database as the service (joining a running embedded server
 * on the same DATA_DIR) and applies pending migrations first, so it works on a fresh machine.
 * Diagnostics go to stderr: with --json, stdout is JSON only.
 */
class CommanderExit extends Error {}

async function main(): Promise<void> {
  const config = loadConfigOrExit(2);
  // Whole-log work (a rebuild, a verification, migrations) runs statements that last as long as
  // the log is large: the service's statement timeout is for requests, not for these.
  const wholeLog = ['rebuild', 'verify', 'migrate'].some((command) => process.argv.includes(command));
  // The commands that create tables run as their owner; every other one as the application role
  // (with the embedded default; DATABASE_URL names one role for everything).
  const [command, subcommand] = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  const asOwner = command === 'migrate' || (command === 'projections' && subcommand === 'rebuild');
  const runtime = await openRuntime(wholeLog ? { ...config, DB_STATEMENT_TIMEOUT_MS: 0 } : config, {
    applicationName: 'accountable-cli',
    asOwner,
    migrate: command !== 'migrate',
    log: (message) => process.stderr.write(`[accountable] ${message}\n`),
  });
  try {
    // `verify` reports every secret that does not open, naming its account: it runs whatever the
    // keyring, as does `migrate`, which opens none. Everything else refuses, with one line.
    if (!['verify', 'migrate'].includes(process.argv[2] ?? '')) {
      const refusal = await storedSecretsRefusal(runtime);
      if (refusal) {
        process.stderr.write(`${refusal}\n`);
        process.exitCode = 2;
        return;
      }
    }
    await CommandFactory.run(CliModule.forRuntime(runtime), {
      cliName: 'accountable',
      logger: ['error'],
      // commander has already printed its message (usage, --help); throwing here stops it from
      // calling process.exit, so the finally below still closes the database.
      errorHandler: (error) => {
        process.exitCode = (error as Error & { exitCode?: number }).exitCode ?? 1;
        throw new CommanderExit();
      },
      serviceErrorHandler: (error) => {
        if (error instanceof CommanderExit) return;
        process.stderr.write(`error: ${visible(error.message)}\n`);
        process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
      },
    }).catch((error) => {
      if (!(error instanceof CommanderExit)) throw error;
    });
  } finally {
    await runtime.close();
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${visible((error as Error).message)}\n`);
  process.exit(1);
});
