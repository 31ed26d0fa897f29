import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CommandBus } from '@nestjs/cqrs';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import pg from 'pg';
import twilio from 'twilio';
import { CreateMainAccountCommand, OPERATOR, type AccountRecord } from '@accountable/accounts';
import { loadConfig } from '@accountable/config';
import { startEmbeddedPostgres, startEmbeddedReplica, type EmbeddedPostgres, type EmbeddedReplica } from '@accountable/database';
import { openRuntime, type Runtime } from '@accountable/platform';
import { createApiApp } from '../../apps/api/src/app.factory';

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/**
 * READ_DATABASE_URL on a real streaming replica: reads go to the replica, yet a write
 * acknowledged by one request is visible to the next even while the replica lags behind.
 */
describe('read-your-writes with a replica', () => {
  let dir: string;
  let primary: EmbeddedPostgres;
  let replica: EmbeddedReplica;
  let runtime: Runtime;
  let app: NestFastifyApplication;
  let replicaAdmin: pg.Client;
  let main: AccountRecord;
  let baseUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'accountable-ryw-'));
    await chmod(dir, 0o755); // the server runs as the postgres user when we are root
    primary = await startEmbeddedPostgres({ dataDir: path.join(dir, 'primary'), database: 'accountable' });
    replica = await startEmbeddedReplica({ primary, primaryDataDir: path.join(dir, 'primary'), dataDir: path.join(dir, 'replica'), port: await freePort() });
    runtime = await openRuntime(
      loadConfig({
        DATABASE_URL: primary.url,
        READ_DATABASE_URL: replica.url,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: dir,
      }),
    );
    app = await createApiApp(runtime, { logger: false, openApi: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    main = await app.get(CommandBus).execute(new CreateMainAccountCommand('Replicated', 'Full', OPERATOR));
    replicaAdmin = new pg.Client({ connectionString: replica.url });
    await replicaAdmin.connect();
  });
  afterAll(async () => {
    await replicaAdmin?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await replicaAdmin?.end();
    await app?.close();
    await runtime?.close();
    await replica?.stop();
    await primary?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('the next request sees an acknowledged write though the replica has not replayed it', async () => {
    const client = twilio(main.sid, main.authToken);
    client.api.baseUrl = baseUrl;
    await replicaAdmin.query('SELECT pg_wal_replay_pause()');
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'written while the replica is paused' });
    // The replica really is behind: the test would prove nothing otherwise.
    const onReplica = await replicaAdmin.query('SELECT 1 FROM account_read_model WHERE sid = $1', [sub.sid]);
    expect(onReplica.rowCount).toBe(0);
    const listed = await client.api.v2010.accounts.list();
    expect(listed.map((a) => a.sid)).toContain(sub.sid);
    expect((await client.api.v2010.accounts(sub.sid).fetch()).friendlyName).toBe('written while the replica is paused');
  });

  it('reads come from the replica once it has caught up', async () => {
    await replicaAdmin.query('SELECT pg_wal_replay_resume()');
    const client = twilio(main.sid, main.authToken);
    client.api.baseUrl = baseUrl;
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'replicated' });
    const started = Date.now();
    expect((await client.api.v2010.accounts(sub.sid).fetch()).friendlyName).toBe('replicated');
    expect(Date.now() - started).toBeLessThan(1000);
    // The service's read pool (application_name accountable) ran the account query on the replica.
    const { rows } = await replicaAdmin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'accountable' AND query ILIKE '%from "account_read_model"%' AND query ILIKE '%"sid" = $1%'`,
    );
    expect(rows[0].n).toBeGreaterThan(0);
  });
});
