import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { newAuthToken } from '@accountable/secrets';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { call, createMainViaCli, describeOutcome, newEncryptionKey, Processes, type Credentials, type OpsProcess } from './ops.helpers';

const WINDOW_S = '3600';

/**
 * The rate limits are counted in each process's memory (README, "Rate limits"): behind a load
 * balancer over N API processes, a client can reach N times each limit. Two `--role api`
 * processes on one database: each counts its own, and each refuses at its own limit.
 */
describe('rate limits with two API processes: each process counts its own', () => {
  let database: TestDatabase;
  let dataDir: string;
  const processes = new Processes();
  let apis: OpsProcess[];
  let main: Credentials;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-ops-limits-'));
    const env = {
      DATABASE_URL: database.url,
      ENCRYPTION_KEY: newEncryptionKey(),
      DATA_DIR: dataDir,
      RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: '3',
      RATE_LIMIT_AUTH_FAILURES_WINDOW_S: WINDOW_S,
      RATE_LIMIT_REQUESTS_PER_ACCOUNT: '4',
      RATE_LIMIT_REQUESTS_WINDOW_S: WINDOW_S,
    };
    main = await createMainViaCli('limits main', env);
    apis = await Promise.all([processes.start('api-a', ['--role', 'api'], env), processes.start('api-b', ['--role', 'api'], env)]);
  });
  afterAll(async () => {
    await processes.stopAll();
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const statusOf = async (api: OpsProcess, as: Credentials) => {
    const o = await call(api.url, `/2010-04-01/Accounts/${main.sid}.json`, { as });
    if (o.kind !== 'response') throw new Error(`${api.name}: ${describeOutcome(o)}`);
    if (o.status === 429) expect([o.json.code, Number.isInteger(Number(o.json.status))]).toEqual([20429, true]);
    return o.status;
  };

  it('requests per account: each process serves its own 4, then answers 429', async () => {
    for (const api of apis) {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await statusOf(api, main));
      expect([api.name, statuses]).toEqual([api.name, [200, 200, 200, 200, 429]]);
    }
  });

  it('failed authentications per address: each process refuses after its own 3', async () => {
    for (const api of apis) {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push(await statusOf(api, { sid: main.sid, authToken: newAuthToken() }));
      expect([api.name, statuses]).toEqual([api.name, [401, 401, 401, 429]]);
    }
  });
});
