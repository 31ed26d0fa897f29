import { randomBytes } from 'node:crypto';
import { readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, startService, type CliResult, type ServiceProcess } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { basic, describeOutcome, send, type Credentials, type SendOptions } from './support/http';
import { recordResult } from './support/results';

/**
 * A full run with every log at debug level: the service process (LOG_LEVEL=debug, stdout and
 * stderr), every CLI command an operator would use, the database's tables, and the embedded
 * PostgreSQL server's own log when there is one. Searched for every auth token issued in the run
 * (and for the wrong ones tried, and for each `sid:token` as a Basic header carries it): none may
 * appear. Two documented exceptions, each kept apart and only used to prove the search finds what
 * it looks for: the CLI's `create-main`, whose answer on stdout *is* the token, shown once to the
 * operator; and the service's first run on an empty embedded database, which hands its main
 * account's token to the person at the terminal — or, as here with the output piped, to a file
 * in DATA_DIR only its user can read (mode 0600), never to the log stream. The main run sets
 * DATABASE_URL; the first run is a second service on an embedded PostgreSQL of its own.
 */
describe('secrets: no auth token, secondary token or API key secret in logs, audit or the event log', () => {
  let database: TestDatabase;
  let dataDir: string;
  let firstRunDir: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-secrets-'));
    firstRunDir = await mkdtemp(path.join(tmpdir(), 'accountable-secrets-first-run-'));
  });
  afterAll(async () => {
    if (service && service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    if (firstRunDir) {
      await runCli(['migrate'], { DATA_DIR: firstRunDir, DATABASE_URL: '', ENCRYPTION_KEY: '' }); // stops its server if a failure left it running
      await rm(firstRunDir, { recursive: true, force: true });
    }
  });

  it('a full debug-level run: every token issued or tried is absent from logs, audit rows and stored events', async () => {
    const figures = { 'tokens issued': 0, 'wrong tokens tried': 0, 'key secrets and secondary tokens': 0, requests: 0, 'CLI commands': 0, 'first run, piped': 0, 'log lines searched': 0, 'table rows searched': 0 };
    let held = '';
    try {
      const env = { DATABASE_URL: database.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir, READ_DATABASE_URL: undefined };
      const cliOutputs: { args: string[]; result: CliResult }[] = [];
      /** The documented answer of create-main (the token, shown once): searched only as a control. */
      const documentedOutput: string[] = [];
      const cli = async (args: string[]) => {
        const result = await runCli(args, { ...env, LOG_LEVEL: 'debug' });
        figures['CLI commands']++;
        if (args[0] === 'create-main' || args[0] === 'rotate-token') {
          documentedOutput.push(result.stdout);
          cliOutputs.push({ args, result: { ...result, stdout: '' } });
        } else {
          cliOutputs.push({ args, result });
        }
        expect({ args, code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ args, code: 0, stderr: '' });
        return result;
      };

      const issued: Credentials[] = [];
      const tried: string[] = [];
      const full = JSON.parse((await cli(['create-main', '--friendly-name', 'Secrets Full', '--type', 'Full', '--json'])).stdout);
      const trial = JSON.parse((await cli(['create-main', '--friendly-name', 'Secrets Trial', '--type', 'Trial', '--json'])).stdout);
      const main: Credentials = { sid: full.sid, authToken: full.auth_token };
      const trialMain: Credentials = { sid: trial.sid, authToken: trial.auth_token };
      issued.push(main, trialMain);

      service = startService({ ...env, LOG_LEVEL: 'debug', PROJECTION_POLL_MS: '100' });
      const [, baseUrl] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const call = async (p: string, options: SendOptions = {}) => {
        const o = await send(baseUrl, p, options);
        figures.requests++;
        return o;
      };
      const expectStatus = async (p: string, options: SendOptions, status: number) => {
        const o = await call(p, options);
        const what = `${options.method ?? (options.body ? 'POST' : 'GET')} ${p}`;
        expect(`${what}: ${describeOutcome(o).slice(0, 3)}`).toBe(`${what}: ${status}`);
        return o as Extract<typeof o, { kind: 'response' }>;
      };

      // Subaccounts, with and without Idempotency-Key, retried (the stored answer holds the token).
      const subs: Credentials[] = [];
      for (let i = 0; i < 6; i++) {
        const key = i % 2 === 0 ? `secrets-${i}` : undefined;
        const headers: Record<string, string> = key ? { 'Idempotency-Key': key } : {};
        const o = await expectStatus('/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: `secret sub ${i}` }, headers }, 201);
        if (key) expect((await expectStatus('/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: `secret sub ${i}` }, headers }, 201)).text).toBe(o.text);
        subs.push({ sid: o.json.sid, authToken: o.json.auth_token });
      }
      const trialCreated = await expectStatus('/2010-04-01/Accounts.json', { as: trialMain, body: { FriendlyName: 'trial sub' } }, 201);
      subs.push({ sid: trialCreated.json.sid, authToken: trialCreated.json.auth_token });
      issued.push(...subs);

      // Every read, every kind of write, every kind of refusal.
      for (const sub of subs.slice(0, 3)) {
        await expectStatus(`/2010-04-01/Accounts/${sub.sid}.json`, { as: sub }, 200);
        await expectStatus(`/2010-04-01/Accounts/${sub.sid}.json`, { as: sub, body: { FriendlyName: `renamed ${sub.sid.slice(-4)}` }, headers: { 'Idempotency-Key': `rename-${sub.sid}` } }, 200);
        await expectStatus(`/2010-04-01/Accounts/${sub.sid}.json`, { as: main, body: { Status: 'suspended' } }, 200);
        await expectStatus(`/2010-04-01/Accounts/${sub.sid}.json`, { as: sub }, 401); // its credentials are not active now
        await expectStatus(`/2010-04-01/Accounts/${sub.sid}.json`, { as: main, body: { Status: 'active' } }, 200);
      }
      await expectStatus(`/2010-04-01/Accounts/${subs[3].sid}.json`, { as: main, body: { Status: 'closed' } }, 200);
      await expectStatus(`/2010-04-01/Accounts/${subs[3].sid}.json`, { as: subs[3] }, 401);
      await expectStatus('/2010-04-01/Accounts.json?PageSize=2', { as: main }, 200);
      await expectStatus(`/2010-04-01/Accounts.json?FriendlyName=${encodeURIComponent('secret sub 1')}`, { as: main }, 200);
      await expectStatus('/v1/Events?PageSize=5', { as: main }, 200);
      await expectStatus(`/v1/Events?ResourceSid=${subs[0].sid}`, { as: subs[0] }, 200);
      for (let i = 0; i < 4; i++) {
        const wrong = randomBytes(16).toString('hex');
        tried.push(wrong);
        await expectStatus('/2010-04-01/Accounts.json', { as: { sid: main.sid, authToken: wrong } }, 401);
      }
      await expectStatus('/2010-04-01/Accounts.json', { as: { sid: main.sid, authToken: subs[0].authToken } }, 401);
      await expectStatus('/2010-04-01/Accounts.json', { headers: { authorization: `Bearer ${main.authToken}` } }, 401);
      // A token put where it does not belong: in a query string, in an unknown parameter, in a bad one.
      await expectStatus(`/2010-04-01/Accounts.json?AuthToken=${main.authToken}&PageSize=abc`, { as: main }, 400);
      await expectStatus(`/2010-04-01/Accounts/${subs[0].sid}.json`, { as: main, body: { FriendlyName: 'x'.repeat(65), AuthToken: main.authToken } }, 400);
      await expectStatus('/2010-04-01/Accounts.json', { as: main, body: `{"FriendlyName": "${main.authToken}`, contentType: 'application/json' }, 400);
      await expectStatus(`/2010-04-01/Accounts/${subs[0].sid}.json`, { as: main, method: 'DELETE' }, 405);
      await expectStatus('/2010-04-01/Accounts/ACnope.json', { as: main }, 404);
      await expectStatus('/metrics', {}, 200);
      await expectStatus('/health/ready', {}, 200);

      // API keys and secondary tokens: every secret issued or tried is searched for too.
      const credentialSecrets: Credentials[] = [];
      const keyA = (await expectStatus(`/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main, body: { FriendlyName: 'secret key' } }, 201)).json;
      const keyB = (await expectStatus(`/2010-04-01/Accounts/${subs[0].sid}/Keys.json`, { as: subs[0], body: {} }, 201)).json;
      const [liveKey, deletedKey] = [keyA, keyB].map((k) => ({ sid: k.sid as string, authToken: k.secret as string }));
      credentialSecrets.push(liveKey, deletedKey);
      await expectStatus('/v1/Events?PageSize=5', { as: liveKey }, 200);
      await expectStatus(`/2010-04-01/Accounts/${main.sid}.json`, { as: liveKey }, 401);
      await expectStatus(`/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: liveKey, body: { FriendlyName: liveKey.authToken } }, 401);
      await expectStatus(`/2010-04-01/Accounts/${main.sid}/Keys/${liveKey.sid}.json`, { as: main }, 200);
      await expectStatus(`/2010-04-01/Accounts/${main.sid}/Keys.json`, { as: main }, 200);
      const wrongSecret = randomBytes(24).toString('base64url').slice(0, 32);
      credentialSecrets.push({ sid: liveKey.sid, authToken: wrongSecret });
      await expectStatus('/v1/Events', { as: { sid: liveKey.sid, authToken: wrongSecret } }, 401);
      await expectStatus(`/2010-04-01/Accounts/${subs[0].sid}/Keys/${deletedKey.sid}.json`, { as: subs[0], method: 'DELETE' }, 204);
      await expectStatus('/v1/Events', { as: deletedKey }, 401);
      // subs[1]: a secondary, replaced by a second one, which is promoted; main keeps a secondary.
      const first = (await expectStatus('/v1/AuthTokens/Secondary', { as: subs[1], method: 'POST' }, 201)).json.secondary_auth_token as string;
      const second = (await expectStatus('/v1/AuthTokens/Secondary', { as: subs[1], method: 'POST' }, 201)).json.secondary_auth_token as string;
      credentialSecrets.push({ sid: subs[1].sid, authToken: first }, { sid: subs[1].sid, authToken: second });
      await expectStatus(`/2010-04-01/Accounts/${subs[1].sid}.json`, { as: { sid: subs[1].sid, authToken: first } }, 401);
      await expectStatus(`/2010-04-01/Accounts/${subs[1].sid}.json`, { as: { sid: subs[1].sid, authToken: second } }, 200);
      expect((await expectStatus('/v1/AuthTokens/Promote', { as: subs[1], method: 'POST' }, 200)).json.auth_token).toBe(second);
      await expectStatus(`/2010-04-01/Accounts/${subs[1].sid}.json`, { as: subs[1] }, 401);
      await expectStatus('/v1/AuthTokens/Secondary', { as: { sid: subs[1].sid, authToken: second }, method: 'DELETE' }, 404);
      const mainSecondary = (await expectStatus('/v1/AuthTokens/Secondary', { as: main, method: 'POST' }, 201)).json.secondary_auth_token as string;
      credentialSecrets.push({ sid: main.sid, authToken: mainSecondary });
      await expectStatus('/2010-04-01/Accounts.json', { as: { sid: main.sid, authToken: mainSecondary } }, 200);

      // The operator's commands, cascades included.
      await cli(['suspend', main.sid, '--json']);
      await cli(['reactivate', main.sid, '--json']);
      await cli(['upgrade', trialMain.sid, '--json']);
      await cli(['replay', subs[0].sid, '--json']);
      await cli(['replay', main.sid]);
      await cli(['state', subs[0].sid, '--version', '2', '--json']);
      await cli(['audit', '--json']);
      await cli(['audit', '--resource', subs[0].sid]);
      await cli(['projections', 'status', '--json']);
      await cli(['projections', 'rebuild', 'accounts', '--json']);
      await cli(['projections', 'rebuild', 'audit', '--json']);
      await cli(['verify', '--json']);
      await cli(['migrate', '--json']);
      await cli(['keys', main.sid]);
      await cli(['keys', subs[0].sid, '--json']);
      const rotated = JSON.parse((await cli(['rotate-token', subs[2].sid, '--json'])).stdout).auth_token as string;
      credentialSecrets.push({ sid: subs[2].sid, authToken: rotated });
      // The issued tokens are real (so the search looks for the right strings); the rotated ones are refused now.
      const retired = [subs[1].sid, subs[2].sid];
      for (const c of issued.filter((c) => c.sid !== subs[3].sid && !retired.includes(c.sid))) await expectStatus(`/2010-04-01/Accounts/${c.sid}.json`, { as: c }, 200);
      for (const c of issued.filter((c) => retired.includes(c.sid))) await expectStatus(`/2010-04-01/Accounts/${c.sid}.json`, { as: c }, 401);
      for (const c of [{ sid: subs[1].sid, authToken: second }, { sid: subs[2].sid, authToken: rotated }, { sid: main.sid, authToken: mainSecondary }]) {
        await expectStatus(`/2010-04-01/Accounts/${c.sid}.json`, { as: c }, 200);
      }
      await expectStatus('/v1/Events', { as: liveKey }, 200);

      expect(await service.stop('SIGTERM')).toBe(0);
      const serviceLog = service.output();
      service = undefined;

      // The first run, output piped, at debug: its token goes to the 0600 file, and nowhere else.
      service = startService({ DATA_DIR: firstRunDir, DATABASE_URL: '', READ_DATABASE_URL: undefined, ENCRYPTION_KEY: '', LOG_LEVEL: 'debug' });
      const [, firstRunUrl] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 90_000);
      const [, credentialsFile] = await service.waitFor(/"credentials_file":"([^"]+)"/);
      figures['first run, piped']++;
      expect((await stat(credentialsFile)).mode & 0o777).toBe(0o600);
      const fileText = await readFile(credentialsFile, 'utf8');
      const firstRun: Credentials = {
        sid: fileText.match(/^TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})$/m)![1],
        authToken: fileText.match(/^TWILIO_AUTH_TOKEN=([0-9a-f]{32})$/m)![1],
      };
      // Control: the token in the file is the real one.
      expect(describeOutcome(await send(firstRunUrl, `/2010-04-01/Accounts/${firstRun.sid}.json`, { as: firstRun })).slice(0, 3)).toBe('200');
      expect(await service.stop('SIGTERM')).toBe(0);
      const firstRunLog = service.output();
      service = undefined;
      const firstRunNeedles = [firstRun.authToken, firstRun.authToken.toUpperCase(), basic(firstRun).slice('Basic '.length)];
      const firstRunHaystacks = [
        { name: 'first-run service output (LOG_LEVEL=debug, piped)', text: firstRunLog },
        { name: 'first-run embedded PostgreSQL server log', text: await readFile(path.join(firstRunDir, 'postgres.log'), 'utf8') },
      ];

      figures['tokens issued'] = issued.length + 1;
      figures['wrong tokens tried'] = tried.length;
      const needles = [
        ...issued.flatMap((c) => [c.authToken, c.authToken.toUpperCase(), basic(c).slice('Basic '.length)]),
        ...tried.flatMap((token) => [token, basic({ sid: main.sid, authToken: token }).slice('Basic '.length)]),
        ...credentialSecrets.flatMap((c) => [c.authToken, basic(c).slice('Basic '.length)]),
      ];
      figures['key secrets and secondary tokens'] = credentialSecrets.length;

      // The haystacks.
      const haystacks: { name: string; text: string }[] = [{ name: 'service output (LOG_LEVEL=debug)', text: serviceLog }];
      for (const { args, result } of cliOutputs) haystacks.push({ name: `cli ${args.join(' ')}`, text: `${result.stdout}\n${result.stderr}` });
      for (const table of ['events', 'audit_history', 'idempotency_keys', 'account_read_model', 'api_keys', 'streams', 'projection_checkpoints', 'projection_parked_events']) {
        const { rows } = await database.pool.query<{ row: string }>(`SELECT t::text AS row FROM ${table} t`);
        figures['table rows searched'] += rows.length;
        haystacks.push({ name: `table ${table}`, text: rows.map((r) => r.row).join('\n') });
      }
      if (process.env.ACCOUNTABLE_TEST_EMBEDDED_DIR) {
        const serverLog = await readFile(path.join(process.env.ACCOUNTABLE_TEST_EMBEDDED_DIR, 'postgres.log'), 'utf8').catch(() => '');
        haystacks.push({ name: 'embedded PostgreSQL server log', text: serverLog });
      }
      figures['log lines searched'] = [...haystacks, ...firstRunHaystacks].filter((h) => !h.name.startsWith('table')).reduce((n, h) => n + h.text.split('\n').length, 0);

      // The service really logged at debug level: one line per request at least.
      expect(serviceLog.split('\n').filter((l) => l.includes('"request_id"')).length).toBeGreaterThanOrEqual(figures.requests);
      // Control: the search finds the token where it is documented to be.
      expect(documentedOutput.join('\n')).toContain(main.authToken);
      expect(documentedOutput.join('\n')).toContain(rotated);

      const found = [
        ...haystacks.flatMap((h) => needles.filter((n) => h.text.includes(n)).map((n) => `${h.name}: ${n}`)),
        ...firstRunHaystacks.flatMap((h) => firstRunNeedles.filter((n) => h.text.includes(n)).map((n) => `${h.name}: ${n}`)),
      ];
      expect(found).toEqual([]);

      // The event log holds the tokens sealed: a value that is not the token, and opens only with the key.
      const { rows: created } = await database.pool.query<{ token: string; sid: string }>(
        `SELECT data->>'authToken' AS token, data->>'sid' AS sid FROM events WHERE type IN ('MainAccountCreated', 'SubaccountCreated')`,
      );
      expect(created).toHaveLength(issued.length);
      for (const row of created) {
        const plain = issued.find((c) => c.sid === row.sid)!.authToken;
        expect(row.token).not.toContain(plain);
        expect(row.token).not.toMatch(/^[0-9a-f]{32}$/);
      }
      // Secondary tokens are sealed in their events too; key secrets are in no event at all (a verifier only).
      const { rows: secondaries } = await database.pool.query<{ token: string }>(`SELECT data->>'authToken' AS token FROM events WHERE type = 'SecondaryAuthTokenCreated'`);
      expect(secondaries).toHaveLength(4);
      for (const row of secondaries) expect(row.token).not.toMatch(/^[0-9a-f]{32}$/);
      const { rows: verifiers } = await database.pool.query<{ verifier: string }>(`SELECT data->>'secretVerifier' AS verifier FROM events WHERE type = 'ApiKeyCreated'`);
      expect(verifiers.map((r) => r.verifier)).toEqual([expect.stringMatching(/^v1\./), expect.stringMatching(/^v1\./)]);
      held = "no token, secondary token or API key secret (plain, upper-case or as a Basic header) in any log, CLI output, table or server log; the first run's only in its 0600 file";
    } finally {
      recordResult({ item: 7, title: 'Secrets (debug logs, audit, events)', figures, held });
    }
  }, 180_000);
});
