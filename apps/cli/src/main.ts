import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { loadConfigOrExit, type AppConfig } from '@accountable/config';
import { storedSecretsRefusal } from '@accountable/accounts';
import { checkDataDir, dataDirHasNoDatabase, describeDatabase, explainStartupFailure, openRuntime, StartupFailure } from '@accountable/platform';
import { UnknownAccountError, visible } from './cli-output';
import { CliModule } from './cli.module';
import { runLedgerCheck } from './commands/ledger.command';
import { OPERATOR_COMMANDS } from './commands/operator.commands';

/**
 * Operator CLI. It opens the same database as the service (joining a running embedded server
 * on the same DATA_DIR) and applies pending migrations first, so it works on a fresh machine.
 * Diagnostics go to stderr: with --json, stdout is JSON only. An error is one line on stderr,
 * `error: what went wrong: what to do`, and the exit code says which kind (README, "The CLI").
 */
class CommanderExit extends Error {}

/** The exit codes, as documented. */
const EXIT = { failed: 1, usage: 2, database: 3 } as const;

/** Commands that only make sense on a database that exists; the others may create one. */
const NEEDS_DATA = new Set(['replay', 'state', 'audit', 'projections', 'verify', ...OPERATOR_COMMANDS.map((c) => c.name)]);

async function main(config: AppConfig): Promise<void> {
  const [command, subcommand] = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  checkDataDir(config);
  if (command && NEEDS_DATA.has(command) && dataDirHasNoDatabase(config)) {
    throw new StartupFailure(
      'data-dir',
      `DATA_DIR=${config.DATA_DIR} holds no database yet, so there is nothing to ${command}: set DATA_DIR to the service's data directory, or start the service once (npm start)`,
    );
  }
  // Whole-log work (a rebuild, a verification, migrations) runs statements that last as long as
  // the log is large: the service's statement timeout is for requests, not for these.
  const wholeLog = ['rebuild', 'verify', 'migrate'].some((command) => process.argv.includes(command));
  // The commands that create tables run as their owner; every other one as the application role
  // (with the embedded default; DATABASE_URL names one role for everything).
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
        process.exitCode = EXIT.usage;
        return;
      }
    }
    await CommandFactory.run(CliModule.forRuntime(runtime), {
      cliName: 'accountable',
      logger: ['error'],
      // commander has already printed its message (usage, --help); throwing here stops it from
      // calling process.exit, so the finally below still closes the database.
      errorHandler: (error) => {
        process.exitCode = (error as Error & { exitCode?: number }).exitCode ?? EXIT.failed;
        throw new CommanderExit();
      },
      // commander's own mistakes-of-the-caller (an unknown command or option, a missing
      // argument) are printed here, and a subcommand would then call process.exit(1) itself (it
      // does not inherit errorHandler): thrown instead, so they end with exit code 2, like ours.
      outputConfiguration: {
        outputError: (message, write) => {
          write(message);
          process.exitCode = EXIT.usage;
          throw new CommanderExit();
        },
      },
      serviceErrorHandler: (error) => {
        if (error instanceof CommanderExit) return;
        report(error, config);
      },
    }).catch((error) => {
      if (!(error instanceof CommanderExit)) throw error;
    });
  } finally {
    await runtime.close();
  }
}

/**
 * One line on stderr and the exit code for any error a command ends with. Control characters
 * are shown escaped: a message may quote what an account holder stored, or a path.
 */
function report(error: unknown, config: AppConfig): void {
  const known = explainStartupFailure(error, config);
  if (known) {
    process.stderr.write(`error: ${visible(known.message, { inline: true })}\n`);
    process.exitCode = known.kind === 'database' ? EXIT.database : EXIT.usage;
    return;
  }
  if (error instanceof UnknownAccountError) {
    const other = config.DATABASE_URL ? 'DATABASE_URL' : 'DATA_DIR';
    process.stderr.write(
      `error: no account ${error.sid} in ${visible(describeDatabase(config), { inline: true })}: check the sid (npm run -s cli -- audit lists recent changes), or ${other} if the service keeps its data elsewhere\n`,
    );
    process.exitCode = EXIT.failed;
    return;
  }
  process.stderr.write(`error: ${visible((error as Error).message)}\n`);
  process.exitCode = (error as { exitCode?: number }).exitCode ?? EXIT.failed;
}

// `ledger check` is offline by design: an auditor checks a proof with no database, configuration or key.
if (process.argv[2] === 'ledger' && process.argv[3] === 'check') {
  void runLedgerCheck(process.argv.slice(4)).then((code) => (process.exitCode = code));
} else {
  const config = loadConfigOrExit(EXIT.usage);
  main(config).catch((error) => {
    report(error, config);
    process.exit();
  });
}
