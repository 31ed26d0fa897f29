import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import twilio from 'twilio';
import { APP_ROLE, createKysely, createPool, expectedGrants, grantsOf, startEmbeddedPostgres } from '@accountable/database';
import { postmasterPid, waitGone } from '../reliability/support/embedded';
import { runCli, startService, type ServiceProcess } from '../support/processes';

/**
 * The newcomer's path, on the embedded PostgreSQL: `npm start` on an empty DATA_DIR signs up a
 * main account and hands over ready-to-use credentials (here, piped, in a file: the terminal's
 * block is test/cli/first-minute.e2e.spec.ts); the CLI, pointed at the same DATA_DIR while
 * the service runs, joins that server; a restart keeps the data. The service connects as a role
 * that owns nothing; a server left running by a killed service is adopted and stopped.
 */
describe('service and CLI on one embedded PostgreSQL', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: '', ENCRYPTION_KEY: '' });

  /** A connection to the running embedded server, as its owner or as the application role. */
  async function connect(as: 'owner' | 'app'): Promise<pg.Client> {
    const port = Number((await readFile(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[3]);
    const password = (await readFile(path.join(dataDir, as === 'owner' ? 'pg-password' : 'pg-app-password'), 'utf8')).trim();
    const client = new pg.Client({ host: '127.0.0.1', port, database: 'accountable', user: as === 'owner' ? 'postgres' : APP_ROLE, password });
    await client.connect();
    return client;
  }

  /** The roles the service's own sessions run as. */
  async function serviceRoles(owner: pg.Client): Promise<string[]> {
    const { rows } = await owner.query<{ usename: string }>(
      `SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name IN ('accountable-all', 'accountable-projector') ORDER BY usename`,
    );
    return rows.map((r) => r.usename);
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-e2e-'));
  });
  afterAll(async () => {
    await service?.stop('SIGKILL');
    await runCli(['migrate'], env()); // adopts and stops the server if a killed service left it running
    await rm(dataDir, { recursive: true, force: true });
  });

  it('first run, output piped: the credentials are in a file in DATA_DIR (logged), and they work', async () => {
    service = startService(env());
    const [, url] = await service.waitFor(/listening on (http:\/\/\S+)/);
    const [, file] = await service.waitFor(/"credentials_file":"([^"]+)"/);
    const credentials = await readFile(file, 'utf8');
    const sid = credentials.match(/^TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})$/m)![1];
    const token = credentials.match(/^TWILIO_AUTH_TOKEN=([0-9a-f]{32})$/m)![1];
    expect(service.output()).not.toContain(token);
    const client = twilio(sid, token);
    client.api.baseUrl = url;
    expect((await client.api.v2010.accounts(sid).fetch()).friendlyName).toBe('My first account');
    expect(service.output()).not.toMatch(/SIGTERM/);
  });

  it('the service connects as a role that is no superuser, owns nothing, holds exactly the listed grants and cannot tamper with events', async () => {
    const owner = await connect('owner');
    const app = await connect('app');
    try {
      expect(await serviceRoles(owner)).toEqual([APP_ROLE]);
      const { rows } = await owner.query(
        `SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb,
                (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) + (SELECT count(*)::int FROM pg_proc WHERE proowner = r.oid) AS owns,
                (SELECT relowner = r.oid FROM pg_class WHERE relname = 'events') AS owns_events
           FROM pg_roles r WHERE r.rolname = $1`,
        [APP_ROLE],
      );
      expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false, owns: 0, owns_events: false });
      const ownerDb = createKysely(createPool(`postgres://postgres:${encodeURIComponent((await readFile(path.join(dataDir, 'pg-password'), 'utf8')).trim())}@127.0.0.1:${owner.port}/accountable`));
      try {
        expect(await grantsOf(ownerDb, APP_ROLE)).toEqual(expectedGrants());
      } finally {
        await ownerDb.destroy();
      }
      const before = (await owner.query('SELECT count(*)::int AS n, max(global_position) AS last FROM events')).rows[0];
      await expect(app.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied/);
      await expect(app.query(`UPDATE events SET data = '{}'`)).rejects.toThrow(/permission denied for table events/);
      await expect(app.query('DELETE FROM events')).rejects.toThrow(/permission denied for table events/);
      await expect(app.query('ALTER TABLE events DISABLE TRIGGER ALL')).rejects.toThrow(/must be owner/);
      expect((await owner.query('SELECT count(*)::int AS n, max(global_position) AS last FROM events')).rows[0]).toEqual(before);
      // Its password, like the owner's, is readable by this user alone.
      for (const file of ['pg-password', 'pg-app-password']) expect((await stat(path.join(dataDir, file))).mode & 0o777).toBe(0o600);
    } finally {
      await app.end();
      await owner.end();
    }
  });

  it('the CLI joins the running server and its account works at once through the API', async () => {
    const [, url] = await service!.waitFor(/listening on (http:\/\/\S+)/);
    const created = await runCli(['create-main', '--friendly-name', 'From the CLI', '--type', 'Full', '--json'], env());
    expect(created.code).toBe(0);
    expect(created.stderr).toMatch(/already running/);
    const account = JSON.parse(created.stdout);
    expect(Object.keys(account).sort()).toEqual(
      ['auth_token', 'date_created', 'date_updated', 'friendly_name', 'owner_account_sid', 'sid', 'status', 'subresource_uris', 'type', 'uri'],
    );
    expect(account).toMatchObject({ friendly_name: 'From the CLI', type: 'Full', status: 'active', owner_account_sid: account.sid });
    const client = twilio(account.sid, account.auth_token);
    client.api.baseUrl = url;
    expect((await client.api.v2010.accounts.create({ friendlyName: 'sub' })).ownerAccountSid).toBe(account.sid);
  });

  it('SIGTERM stops cleanly, and a restart on the same DATA_DIR (made before the application role existed) keeps the data and prints no new token', async () => {
    const firstSid = (await service!.waitFor(/"account_sid":"(AC[0-9a-f]{32})"/))[1];
    expect(await service!.stop('SIGTERM')).toBe(0);
    expect(service!.output()).toMatch(/stopped/);
    // As an earlier version left it: no application role and no password for one.
    const server = await startEmbeddedPostgres({ dataDir });
    const earlier = new pg.Client({ connectionString: server.url });
    await earlier.connect();
    await earlier.query(`DROP OWNED BY ${APP_ROLE}; DROP ROLE ${APP_ROLE}`);
    await earlier.end();
    await server.stop();
    await rm(path.join(dataDir, 'pg-app-password'));
    service = startService(env());
    await service.waitFor(/listening on/);
    await service.waitFor(/"msg":"reusing the data in [^"]+: 3 accounts, 2 main"/);
    expect(service.output()).not.toMatch(/first run: created/);
    const listed = await runCli(['replay', firstSid, '--json'], env());
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ version: 1, type: 'MainAccountCreated' });
    const owner = await connect('owner');
    try {
      expect(await serviceRoles(owner)).toEqual([APP_ROLE]);
    } finally {
      await owner.end();
    }
  });

  it('after a SIGKILL, the restarted service adopts the server left running and stops it on SIGTERM', async () => {
    await service!.waitFor(/listening on/);
    const orphan = postmasterPid(dataDir);
    expect(orphan).toBeDefined();
    expect(await service!.stop('SIGKILL')).toBeNull();
    expect(postmasterPid(dataDir)).toBe(orphan); // nobody stopped it

    service = startService(env());
    await service.waitFor(/adopted the embedded PostgreSQL running on port \d+/);
    const [, url] = await service.waitFor(/listening on (http:\/\/\S+)/);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    // A CLI meanwhile joins: the adopter lives.
    const joined = await runCli(['projections', 'status', '--json'], env());
    expect(joined.code).toBe(0);
    expect(joined.stderr).toMatch(/already running/);
    expect(postmasterPid(dataDir)).toBe(orphan);

    expect(await service.stop('SIGTERM')).toBe(0);
    await waitGone([orphan!]);
    expect(postmasterPid(dataDir)).toBeUndefined();
  });
});
