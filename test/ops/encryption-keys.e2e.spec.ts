import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { EventStore } from '@accountable/event-store';
import { keyIdOf, SecretBox } from '@accountable/secrets';
import { LEGACY_SEALS } from '../../libs/secrets/src/legacy-seals.fixtures';
import { runCli, startService } from '../support/processes';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { call, cliJson, createMainViaCli, Processes, waitUntil, type Credentials, type OpsProcess, type Outcome } from './ops.helpers';

const hex = (key: Buffer) => key.toString('hex');
const keyId = (keyHex: string) => keyIdOf(Buffer.from(keyHex, 'hex'));
/** The key id a stored sealed value names; `v1` for a value from before key ids. */
const sealedKeyId = (sealed: string) => (sealed.startsWith('v2.') ? sealed.split('.')[1] : sealed.split('.')[0]);

/**
 * The keyring across a key change, on the built service and CLI. The log starts as an existing
 * installation left it: an account sealed before key ids (v1) under the old key L, then one
 * sealed by this version under L. A service given another key alone refuses to start with one
 * line naming ENCRYPTION_KEY (API, projector, CLI); given the new key B with L as a previous key,
 * it serves every old account and seals new tokens under B. A token no key opens is refused as a
 * wrong password is (401 20003, as for an unknown sid), never a 500; `verify` names its account.
 */
describe('encryption keys: a keyring across a key change', () => {
  let database: TestDatabase;
  let dataDir: string;
  const processes = new Processes();
  const L = hex(LEGACY_SEALS.key);
  const B = hex(randomBytes(32));
  const legacy: Credentials = { sid: LEGACY_SEALS.values[0].context, authToken: LEGACY_SEALS.values[0].plaintext };
  let underL: Credentials;
  let sub: Credentials;
  let mainUnderB: Credentials;
  let base: Record<string, string>;

  const tokenInLog = async (sid: string): Promise<string> => {
    const row = await database.db
      .selectFrom('events')
      .select(sql<string>`data->>'authToken'`.as('token'))
      .where('stream_id', '=', `account-${sid}`)
      .where('stream_version', '=', 1)
      .executeTakeFirstOrThrow();
    return row.token;
  };
  const eventCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(database.db)).rows[0].n);
  const get = (service: OpsProcess, sid: string, as: Credentials) => call(service.url, `/2010-04-01/Accounts/${sid}.json`, { as });
  const status = (o: Outcome) => (o.kind === 'response' ? { status: o.status, code: o.json?.code, auth_token: o.json?.auth_token } : { status: o.kind });

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-keys-'));
    base = { DATABASE_URL: database.url, DATA_DIR: dataDir, PROJECTION_POLL_MS: '50' };
    // As the version before key ids stored it: a creation event whose token is sealed as v1.
    await new EventStore(database.db).append(
      `account-${legacy.sid}`,
      [
        {
          eventId: randomUUID(),
          type: 'MainAccountCreated',
          data: { sid: legacy.sid, friendlyName: 'Sealed before key ids', type: 'Full', authToken: LEGACY_SEALS.values[0].sealed },
          metadata: { actorType: 'operator', source: 'cli' },
        },
      ],
      'no_stream',
    );
  });

  afterAll(async () => {
    await processes.stopAll();
    await database?.destroy();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('under the key the data was sealed with, v1 tokens still open, and new ones name that key', async () => {
    const service = await processes.start('under L', [], { ...base, ENCRYPTION_KEY: L });
    await waitUntil('the v1 account is projected', async () => status(await get(service, legacy.sid, legacy)).status === 200);
    expect(status(await get(service, legacy.sid, legacy))).toEqual({ status: 200, code: undefined, auth_token: legacy.authToken });
    underL = await createMainViaCli('sealed under L', { ...base, ENCRYPTION_KEY: L });
    expect(await tokenInLog(underL.sid)).toMatch(new RegExp(`^v2\\.${keyId(L)}\\.`));
    expect(status(await get(service, underL.sid, underL))).toMatchObject({ status: 200, auth_token: underL.authToken });
    await service.stop();
  });

  it('another key alone: the API, the projector and the CLI refuse to start, with one line naming ENCRYPTION_KEY', async () => {
    const before = await eventCount();
    for (const args of [[], ['--role', 'projector']]) {
      const service = startService({ ...base, ENCRYPTION_KEY: B }, args);
      expect(await service.exited()).toBe(1);
      const lines = service.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      // Piped, the service's output is JSON lines: the refusal is one `fatal` line.
      expect(JSON.parse(lines[0])).toMatchObject({ level: 'fatal', msg: expect.stringMatching(/^ENCRYPTION_KEY: the keyring cannot open the stored secrets/) });
      // Names what is missing and what the keyring holds, by key id only.
      expect(lines[0]).toContain(`key id ${keyId(L)}`);
      expect(lines[0]).toContain('the key of the v1 seals');
      expect(lines[0]).toContain(`holds key id ${keyId(B)} (the current one from ENCRYPTION_KEY)`);
      expect(lines[0]).toContain('ENCRYPTION_PREVIOUS_KEYS');
      expect(lines[0]).not.toContain(L);
      expect(lines[0]).not.toContain(B);
      expect(service.output()).not.toMatch(/listening on/);
    }
    const cli = await runCli(['create-main', '--friendly-name', 'under the wrong key', '--json'], { ...base, ENCRYPTION_KEY: B });
    expect(cli.code).toBe(2);
    expect(cli.stdout).toBe('');
    expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ENCRYPTION_KEY: the keyring cannot open the stored secrets/)]);
    expect(await eventCount()).toBe(before);
  });

  it('the new key with the old one as a previous key: old accounts are served, new tokens are sealed under the new key', async () => {
    const env = { ...base, ENCRYPTION_KEY: B, ENCRYPTION_PREVIOUS_KEYS: L };
    const service = await processes.start('B, then L', [], env);
    for (const account of [legacy, underL]) {
      expect(status(await get(service, account.sid, account))).toMatchObject({ status: 200, auth_token: account.authToken });
      expect(status(await get(service, account.sid, { sid: account.sid, authToken: randomBytes(16).toString('hex') }))).toMatchObject({ status: 401, code: 20003 });
    }
    // With an Idempotency-Key: its stored answer (it holds the new token) is sealed too.
    const created = await fetch(`${service.url}/2010-04-01/Accounts.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${underL.sid}:${underL.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'idempotency-key': 'create-under-B',
      },
      body: 'FriendlyName=sealed+under+B',
    });
    expect(created.status).toBe(201);
    const json = (await created.json()) as { sid: string; auth_token: string };
    sub = { sid: json.sid, authToken: json.auth_token };
    expect(sealedKeyId(await tokenInLog(sub.sid))).toBe(keyId(B));
    expect(status(await get(service, sub.sid, sub))).toMatchObject({ status: 200, auth_token: sub.authToken });
    mainUnderB = await createMainViaCli('sealed under B too', env);
    expect(sealedKeyId(await tokenInLog(mainUnderB.sid))).toBe(keyId(B));
    // Events never change: the old tokens keep their seals.
    expect(await tokenInLog(legacy.sid)).toBe(LEGACY_SEALS.values[0].sealed);
    expect(sealedKeyId(await tokenInLog(underL.sid))).toBe(keyId(L));
    const report = await cliJson(['verify'], env);
    expect(report).toMatchObject({ ok: true, drift: [], unopenable_secrets: [], unopenable_secrets_total: 0, accounts_checked: 4, idempotency_answers_checked: 1 });
    await service.stop();
  });

  it('a token no key of the keyring opens: 401 20003 with the right token, the wrong one, or for an unknown sid alike; verify names the account', async () => {
    const env = { ...base, ENCRYPTION_KEY: B, ENCRYPTION_PREVIOUS_KEYS: L };
    const service = await processes.start('B, then L (2)', [], env);
    // An account whose token was sealed under a key this keyring does not hold (appended while
    // the service runs: at start-up such a key is refused, see above).
    const lost: Credentials = { sid: `AC${randomBytes(16).toString('hex')}`, authToken: randomBytes(16).toString('hex') };
    const lostKey = new SecretBox(randomBytes(32));
    await new EventStore(database.db).append(
      `account-${lost.sid}`,
      [{ eventId: randomUUID(), type: 'MainAccountCreated', data: { sid: lost.sid, friendlyName: 'lost key', type: 'Full', authToken: lostKey.seal(lost.authToken, lost.sid) }, metadata: { actorType: 'operator', source: 'cli' } }],
      'no_stream',
    );
    await waitUntil('the account is projected', async () => (await database.db.selectFrom('account_read_model').select('sid').where('sid', '=', lost.sid).executeTakeFirst()) !== undefined);
    const unknown = { sid: `AC${randomBytes(16).toString('hex')}`, authToken: lost.authToken };
    const answers = [
      await get(service, lost.sid, lost),
      await get(service, lost.sid, { sid: lost.sid, authToken: randomBytes(16).toString('hex') }),
      await get(service, unknown.sid, unknown),
    ];
    for (const answer of answers) expect(status(answer)).toEqual({ status: 401, code: 20003, auth_token: undefined });
    const bodies = answers.map((a) => (a.kind === 'response' ? a.body : ''));
    expect(new Set(bodies).size).toBe(1);
    // Everything else is still served.
    expect(status(await get(service, underL.sid, underL))).toMatchObject({ status: 200 });

    const verify = await runCli(['verify', '--json'], env);
    expect(verify.code).toBe(1);
    const report = JSON.parse(verify.stdout);
    expect(report).toMatchObject({ ok: false, drift: [] });
    expect(report.unopenable_secrets).toEqual([{ sid: lost.sid, where: 'MainAccountCreated v1', reason: `sealed with key id ${lostKey.keyId}, which is not in the keyring` }]);
    expect(verify.stdout).not.toContain(lost.authToken);
    const text = await runCli(['verify'], env);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`${lost.sid} MainAccountCreated v1: sealed with key id ${lostKey.keyId}, which is not in the keyring`);

    // Without L, verify names each account whose token only L opens.
    const withoutL = await runCli(['verify', '--json'], { ...base, ENCRYPTION_KEY: B });
    expect(withoutL.code).toBe(1);
    expect(JSON.parse(withoutL.stdout).unopenable_secrets.map((u: { sid: string }) => u.sid).sort()).toEqual([legacy.sid, underL.sid, lost.sid].sort());
    // With L alone, the tokens sealed under B, and the idempotency answer, which holds one.
    const withoutB = await runCli(['verify', '--json'], { ...base, ENCRYPTION_KEY: L });
    expect(withoutB.code).toBe(1);
    expect(JSON.parse(withoutB.stdout).unopenable_secrets).toEqual(
      expect.arrayContaining([
        { sid: sub.sid, where: 'SubaccountCreated v1', reason: `sealed with key id ${keyId(B)}, which is not in the keyring` },
        { sid: mainUnderB.sid, where: 'MainAccountCreated v1', reason: `sealed with key id ${keyId(B)}, which is not in the keyring` },
        { sid: underL.sid, where: 'idempotency_keys "create-under-B"', reason: `sealed with key id ${keyId(B)}, which is not in the keyring` },
      ]),
    );
    expect(JSON.parse(withoutB.stdout)).toMatchObject({ ok: false, unopenable_secrets_total: 4 });
    expect(JSON.parse(withoutB.stdout).unopenable_secrets).toHaveLength(4);
    expect(withoutB.stdout).not.toContain(sub.authToken);
    await service.stop();
  });
});
