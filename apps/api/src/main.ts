import 'reflect-metadata';
import type { Server } from 'node:http';
import { loadConfigOrExit } from '@accountable/config';
import { CommandBus } from '@nestjs/cqrs';
import { CreateMainAccountCommand, storedSecretsRefusal } from '@accountable/accounts';
import { openRuntime, type Runtime } from '@accountable/platform';
import type { ProcessRole } from './app.module';
import { createApiApp } from './app.factory';

async function main(): Promise<void> {
  const config = loadConfigOrExit(1);
  const role = parseRole(process.argv.slice(2));
  const log = (message: string) => process.stdout.write(`[accountable] ${message}\n`);
  const runtime = await openRuntime(config, { log, applicationName: `accountable-${role}` });
  // Refused before anything is served: with a keyring that cannot open the stored tokens, every
  // existing account would fail authentication (README, "Encryption keys").
  const refusal = await storedSecretsRefusal(runtime).catch(async (error: unknown) => {
    await runtime.close();
    throw error;
  });
  if (refusal) {
    await runtime.close();
    process.stderr.write(`[accountable] ${refusal}\n`);
    process.exit(1);
  }
  const app = await createApiApp(runtime, { role });
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;
  log(`${role === 'all' ? '' : `${role} process `}listening on ${url} (database: ${runtime.embedded ? `embedded PostgreSQL, data in ${config.DATA_DIR}` : 'DATABASE_URL'})`);
  if (role !== 'projector') log(`console: ${url}/console`);
  if (runtime.embedded && role !== 'projector') await firstRun(runtime, app.get(CommandBus), url, log);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received: draining requests and stopping`);
    const timer = setTimeout(() => {
      process.stderr.write('[accountable] shutdown timed out; exiting\n');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    // Closing the listener resets every connection still waiting in the kernel's accept queue:
    // requests their clients sent before the signal. Node accepts about one connection per
    // event-loop turn, so under load that queue is long. Take in what is queued first.
    await acceptQueuedConnections(app.getHttpServer(), Math.min(2_000, config.SHUTDOWN_TIMEOUT_MS / 4));
    await app.close();
    await runtime.close();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
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
 * once. Its token is printed this once; later starts only say how to get new credentials.
 */
async function firstRun(runtime: Runtime, commands: CommandBus, url: string, log: (m: string) => void): Promise<void> {
  const existing = await runtime.db.selectFrom('account_read_model').select('sid').where('is_main', '=', true).limit(1).executeTakeFirst();
  if (existing) {
    log(`main account ${existing.sid} exists; create credentials with: npm run -s cli -- create-main --friendly-name "My account"`);
    return;
  }
  const account = await commands.execute(
    new CreateMainAccountCommand('My first account', 'Full', { actorType: 'system', actorSid: null, source: 'system' }),
  );
  log('first run: created a main account (its auth token is shown only now)');
  log(`  account sid: ${account.sid}`);
  log(`  auth token:  ${account.authToken}`);
  log(`  try: curl -u ${account.sid}:${account.authToken} ${url}/2010-04-01/Accounts.json`);
}

main().catch((error) => {
  process.stderr.write(`[accountable] failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
