import 'reflect-metadata';
import { CommandFactory } from 'nest-commander';
import { ConfigError, loadConfig } from '@accountable/config';
import { openRuntime } from '@accountable/platform';
import { CliModule } from './cli.module';

/**
 * Operator CLI. It opens the same database as the service (joining a running embedded server
 * on the same DATA_DIR) and applies pending migrations first, so it works on a fresh machine.
 * Diagnostics go to stderr: with --json, stdout is JSON only.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const runtime = await openRuntime(config, {
    applicationName: 'accountable-cli',
    migrate: !process.argv.includes('migrate'),
    log: (message) => process.stderr.write(`[accountable] ${message}\n`),
  });
  try {
    await CommandFactory.run(CliModule.forRuntime(runtime), {
      cliName: 'accountable',
      logger: ['error'],
      errorHandler: (error) => {
        // commander's own exits (--help, --version) are not failures
        const code = (error as { code?: string; exitCode?: number }).code;
        if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return;
        process.stderr.write(`error: ${(error as Error).message}\n`);
        process.exitCode = (error as { exitCode?: number }).exitCode || 2;
      },
    });
  } finally {
    await runtime.close();
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exit(1);
});
