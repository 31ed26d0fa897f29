import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { CreateMainAccountCommand, OPERATOR, type AccountRecord, type AccountType } from '@accountable/accounts';
import { loadConfig } from '@accountable/config';
import { openRuntime, type Runtime } from '@accountable/platform';
import { ProjectorService } from '@accountable/projections';
import { createApiApp } from '../../apps/api/src/app.factory';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  runtime: Runtime;
  database: TestDatabase;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  createMain(friendlyName?: string, type?: AccountType): Promise<AccountRecord>;
  /** Runs every projection until the feed is drained. */
  drainProjections(): Promise<void>;
  close(): Promise<void>;
}

/** The real service on a private database, listening on a free port. */
export async function startTestApp(options: { env?: Record<string, string> } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-app-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PROJECTION_POLL_MS: '50',
    ...options.env,
  });
  const runtime = await openRuntime(config);
  const app = await createApiApp(runtime, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address() as { port: number };
  const commands = app.get(CommandBus);
  return {
    app,
    runtime,
    database,
    baseUrl: `http://127.0.0.1:${address.port}`,
    createMain: (friendlyName = 'Main', type: AccountType = 'Full') =>
      commands.execute(new CreateMainAccountCommand(friendlyName, type, OPERATOR)),
    async drainProjections() {
      const runner = app.get(ProjectorService).runner;
      for (const projection of runner.projections) await runner.catchUp(projection);
    },
    async close() {
      await app.close();
      await runtime.close();
      await database.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
