import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import twilio from 'twilio';
import { runCli, startService, type ServiceProcess } from '../support/processes';

/**
 * The newcomer's path, on the embedded PostgreSQL: `npm start` on an empty DATA_DIR signs up a
 * main account and prints ready-to-use credentials; the CLI, pointed at the same DATA_DIR while
 * the service runs, joins that server; a restart keeps the data.
 */
describe('service and CLI on one embedded PostgreSQL', () => {
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const env = () => ({ DATA_DIR: dataDir, DATABASE_URL: '', ENCRYPTION_KEY: '' });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-e2e-'));
  });
  afterAll(async () => {
    await service?.stop('SIGKILL');
    await runCli(['migrate'], env()); // stops the server if a killed service left it running
    await rm(dataDir, { recursive: true, force: true });
  });

  it('first run prints credentials and a curl line that work', async () => {
    service = startService(env());
    const [, url] = await service.waitFor(/listening on (http:\/\/\S+)/);
    const [, sid] = await service.waitFor(/account sid: (AC[0-9a-f]{32})/);
    const [, token] = await service.waitFor(/auth token:\s+([0-9a-f]{32})/);
    await service.waitFor(new RegExp(`try: curl -u ${sid}:${token} ${url.replace(/[.]/g, '\\.')}/2010-04-01/Accounts\\.json`));
    const client = twilio(sid, token);
    client.api.baseUrl = url;
    expect((await client.api.v2010.accounts(sid).fetch()).friendlyName).toBe('My first account');
    expect(service.output()).not.toMatch(/SIGTERM/);
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

  it('SIGTERM stops cleanly, and a restart on the same DATA_DIR keeps the data and prints no new token', async () => {
    const firstSid = (await service!.waitFor(/account sid: (AC[0-9a-f]{32})/))[1];
    expect(await service!.stop('SIGTERM')).toBe(0);
    expect(service!.output()).toMatch(/stopped/);
    service = startService(env());
    await service.waitFor(/listening on/);
    await service.waitFor(/main account AC[0-9a-f]{32} exists/);
    expect(service.output()).not.toMatch(/auth token:/);
    const listed = await runCli(['replay', firstSid, '--json'], env());
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ version: 1, type: 'MainAccountCreated' });
  });
});
