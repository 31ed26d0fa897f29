import 'reflect-metadata';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfigOrExit } from '@accountable/config';
import { CommandBus } from '@nestjs/cqrs';
import { CreateMainAccountCommand, storedSecretsRefusal } from '@accountable/accounts';
import { checkDataDir, explainStartupFailure, openRuntime, type Runtime } from '@accountable/platform';
import type { ProcessRole } from './app.module';
import { createApiApp } from './app.factory';
import { createLogger, resolveLogFormat, type LogFormat } from './observability/logging';
import { credentialsDestination, CREDENTIALS_FILE, writeCredentialsFile } from './startup/first-run';
import { accountCount, credentialsLines, readyBlock, type ReadyFacts } from './startup/ready-block';

async function main(): Promise<void> {
  const config = loadConfigOrExit(1);
  const role = parseRole(process.argv.slice(2));
  const format = resolveLogFormat(config.LOG_FORMAT);
  const logger = createLogger(config.LOG_LEVEL, undefined, format);
  // The start-up and shutdown lines are for whoever watches the process start: shown at any
  // level up to warn and error, as they were before they were log lines; `silent` silences them.
  const lifecycle = config.LOG_LEVEL === 'silent' || logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'info' });
  failed = (error) => {
    // One line for what the operator can fix; the stack only for what they cannot.
    const known = explainStartupFailure(error, config);
    if (known) lifecycle.fatal(`failed to start: ${known.message}`);
    else lifecycle.fatal({ err: error }, 'failed to start');
  };
  checkDataDir(config);

  const runtime = await openRuntime(config, { log: (message) => lifecycle.info(message), applicationName: `accountable-${role}` });
  // Refused before anything is served: with a keyring that cannot open the stored tokens, every
  // existing account would fail authentication (README, "Encryption keys").
  const refusal = await storedSecretsRefusal(runtime).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  if (refusal) {
    await runtime.close();
    lifecycle.fatal(refusal);
    process.exit(1);
  }
  const app = await createApiApp(runtime, { role, log: { logger, format } });
  await app.listen({ port: config.PORT, host: config.HOST });
  // Installed before anything else is said or done: a Ctrl-C during the first run stops cleanly too.
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    lifecycle.info(`${signal} received: draining requests and stopping`);
    const timer = setTimeout(() => {
      lifecycle.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Closing the listener resets every connection still waiting in the kernel's accept queue:
    // requests their clients sent before the signal. Node accepts about one connection per
    // event-loop turn, so under load that queue is long. Take in what is queued first.
    await acceptQueuedConnections(app.getHttpServer(), Math.min(2_000, config.SHUTDOWN_TIMEOUT_MS / 4));
    await app.close();
    await runtime.close();
    lifecycle.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  const facts: ReadyFacts = { role, url, dataDir: runtime.embedded ? config.DATA_DIR : undefined };
  lifecycle.info(
    {
      url,
      ...(role !== 'projector' && { docs: `${url}/docs`, console: `${url}/console` }),
      health: `${url}/health/ready`,
      metrics: `${url}/metrics`,
      ...(runtime.embedded && { data_dir: config.DATA_DIR }),
    },
    `${role === 'all' ? '' : `${role} process `}listening on ${url} (database: ${runtime.embedded ? `embedded PostgreSQL, data in ${config.DATA_DIR}` : 'DATABASE_URL'})`,
  );
  if (runtime.embedded && role !== 'projector') await firstRunOrReuse(runtime, app.get(CommandBus), facts, format, lifecycle);
  if (format === 'pretty' && !stopping) process.stdout.write(readyBlock(facts));
}

/**
 * Lets the event loop run until 10 ms pass with no new connection and no new request on
 * `server` (or `limitMs` runs out), so that everything already queued is accepted and read, and
 * is then drained by the close rather than reset by it.
 */
async function acceptQueuedConnections(server: Server, limitMs: number): Promise<void> {
  let arrivals = 0;
  const arrived = () => void arrivals++;
  server.on('connection', arrived).on('request', arrived);
  const deadline = Date.now() + limitMs;
  try {
    for (let seen = -1; arrivals !== seen && Date.now() < deadline; ) {
      seen = arrivals;
      await new Promise((resolve) => setTimeout(resolve, 10));
      // Timers run before the loop polls for I/O: after a turn that kept the loop busy, the
      // timer fires before the connections and requests queued meanwhile are taken in, and the
      // close would find them idle (accepted, request not yet read) and reset them. setImmediate
      // runs after a poll, so what arrived by then is counted.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    server.off('connection', arrived).off('request', arrived);
  }
}

/** `--role api|projector` (npm run start:api / start:projector); both when absent (npm start). */
function parseRole(args: string[]): ProcessRole {
  const i = args.indexOf('--role');
  const value = i >= 0 ? args[i + 1] : 'all';
  if (value !== 'all' && value !== 'api' && value !== 'projector') {
    process.stderr.write(`--role must be api, projector or all, not ${value}\n`);
    process.exit(1);
  }
  return value;
}

/**
 * On an empty embedded database, sign up one main account so a newcomer can call the API at
 * once; its token is handed over this once (see credentialsDestination). On a database that
 * has accounts, say that its data is reused, and how many accounts it holds.
 */
async function firstRunOrReuse(runtime: Runtime, commands: CommandBus, facts: ReadyFacts, format: LogFormat, log: Logger): Promise<void> {
  const dataDir = runtime.config.DATA_DIR;
  const counted = await runtime.db
    .selectFrom('account_read_model')
    .select((eb) => [eb.fn.countAll<string>().as('total'), eb.fn.countAll<string>().filterWhere('is_main', '=', true).as('main')])
    .executeTakeFirstOrThrow();
  const accounts = { total: Number(counted.total), main: Number(counted.main) };
  if (accounts.main > 0) {
    facts.accounts = accounts;
    log.info({ data_dir: dataDir, accounts: accounts.total, main_accounts: accounts.main }, `reusing the data in ${dataDir}: ${accountCount(accounts)}`);
    const leftOver = path.resolve(dataDir, CREDENTIALS_FILE);
    if (existsSync(leftOver)) log.warn({ credentials_file: leftOver }, `the first run's credentials are still in ${leftOver}: delete it once they are kept elsewhere`);
    return;
  }
  const account = await commands.execute(
    new CreateMainAccountCommand('My first account', 'Full', { actorType: 'system', actorSid: null, source: 'system' }),
  );
  const credentials = { sid: account.sid, authToken: account.authToken };
  switch (credentialsDestination(format, process.stdout.isTTY === true, process.stderr.isTTY === true)) {
    case 'block':
      log.info({ account_sid: account.sid }, `first run: created the main account ${account.sid}`);
      facts.firstRun = credentials;
      return;
    case 'stderr':
      log.info({ account_sid: account.sid }, `first run: created the main account ${account.sid}; its auth token is shown on the terminal (stderr) only`);
      process.stderr.write(`\n${credentialsLines(facts.url, credentials).join('\n')}\n\n`);
      facts.credentialsElsewhere = 'the credentials are above, on stderr';
      return;
    case 'file': {
      const file = await writeCredentialsFile(dataDir, facts.url, credentials);
      log.info(
        { account_sid: account.sid, credentials_file: file },
        `first run: created the main account ${account.sid}; its credentials are in ${file} (readable by this user only; delete it once they are kept elsewhere)`,
      );
      facts.credentialsElsewhere = `the credentials are in ${file}`;
      return;
    }
  }
}

let failed: (error: unknown) => void = (error) =>
  process.stderr.write(`[accountable] failed to start: ${(error as Error).stack ?? String(error)}\n`);

main().catch((error) => {
  failed(error);
  process.exit(1);
});
