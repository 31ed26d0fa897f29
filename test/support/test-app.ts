import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { DestinationStream } from 'pino';
import { CreateMainAccountCommand, OPERATOR, type AccountRecord, type AccountType } from '@accountable/accounts';
import { loadConfig } from '@accountable/config';
import { openRuntime, type Runtime, ProjectorService } from '@accountable/platform';
import { CheckpointConflictError } from '@accountable/event-store';
import { createApiApp } from '../../apps/api/src/app.factory';
import { createTestDatabase, type TestDatabase } from './test-database';

export interface TestApp {
  app: NestFastifyApplication;
  runtime: Runtime;
  database: TestDatabase;
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  createMain(friendlyName?: string, type?: AccountType): Promise<AccountRecord>;
  /**
   * Runs every projection until each checkpoint has reached the newest stored event. One pass
   * is not enough: the feed holds back events while any transaction on the server is open
   * (other test files' too), so this repeats until the checkpoints arrive or time runs out.
   */
  drainProjections(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The real service on a private database, listening on a free port. */
export async function startTestApp(options: { env?: Record<string, string>; logStream?: DestinationStream } = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-app-'));
  const config = loadConfig({
    // As the embedded default serves: a role that owns nothing.
    DATABASE_URL: database.appUrl,
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    PROJECTION_POLL_MS: '50',
    ...options.env,
  });
  const runtime = await openRuntime(config);
  const app = await createApiApp(runtime, { openApi: false, console: false, ...(options.logStream ? { logStream: options.logStream } : { logger: false }) });
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
    async drainProjections(timeoutMs = 30_000) {
      const runner = app.get(ProjectorService).runner;
      const names = runner.projections.map((p) => p.name);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const projection of runner.projections) {
          try {
            await runner.catchUp(projection);
          } catch (error) {
            // The background projector applied that batch first: fine, look again.
            if (!(error instanceof CheckpointConflictError)) throw error;
          }
        }
        const { rows } = await database.pool.query<{ name: string }>(
          `SELECT n AS name
             FROM unnest($1::text[]) AS n
             CROSS JOIN (SELECT transaction_id, global_position FROM events
                          ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS head
             LEFT JOIN projection_checkpoints c ON c.name = n
            WHERE c.name IS NULL OR (c.transaction_id, c.global_position) < (head.transaction_id, head.global_position)`,
          [names],
        );
        if (rows.length === 0) return;
        if (Date.now() > deadline) throw new Error(`projections still behind the newest event: ${rows.map((r) => r.name).join(', ')}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await app.close();
      await runtime.close();
      await database.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
