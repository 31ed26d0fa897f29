import 'reflect-metadata';
import { ConfigError, loadConfig } from '@accountable/config';
import { openRuntime } from '@accountable/platform';
import { createApiApp } from './app.factory';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const log = (message: string) => process.stdout.write(`[accountable] ${message}\n`);
  const runtime = await openRuntime(config, { log });
  const app = await createApiApp(runtime);
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log(`listening on http://${config.HOST}:${port} (database: ${runtime.embedded ? `embedded PostgreSQL, data in ${config.DATA_DIR}` : 'DATABASE_URL'})`);

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
    await app.close();
    await runtime.close();
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`[accountable] failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
