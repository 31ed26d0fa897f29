import { sql } from 'kysely';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';
import { clientFor, raw, restError, settle, streamEvents, type Credentials, type StoredEvent } from '../api/accounts-api.helpers';

const last = <T>(items: readonly T[]): T => items[items.length - 1];
/** Each CLI run starts a process that opens the database: seconds apiece on a loaded machine. */
const CLI_TEST_MS = 240_000;

interface AuditLine {
  resource_sid: string;
  account_sid: string;
  actor_type: string;
  source: string;
  causation_id: string | null;
  event_data: Record<string, { previous: unknown; updated: unknown }>;
  description: string;
}

/**
 * `close SID`: the operator closes a main account through the CLI; the owner cascade closes its
 * subaccounts, each by its own event caused by the main account's; the API then refuses every
 * credential of the tenant.
 */
describe('CLI: close SID', () => {
  let t: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR };
  });
  afterAll(() => t.close());

  const newKey = async (account: Credentials): Promise<Credentials> => {
    const { json } = await raw(t, `/2010-04-01/Accounts/${account.sid}/Keys.json`, { as: account, body: {} });
    return { sid: json.sid, authToken: json.secret };
  };
  const unauthorized = async (who: Credentials) => {
    const events = await raw(t, '/v1/Events', { as: who });
    return [events.status, events.json?.code];
  };

  it('closes the main account and each open subaccount by an event caused by its close; the tenant’s credentials get 401 20003; the audit shows the chain', async () => {
    const main = await t.createMain('Closing', 'Full');
    const accounts = clientFor(t, main).api.v2010.accounts;
    const active = await accounts.create({ friendlyName: 'active' });
    const suspended = await accounts.create({ friendlyName: 'suspended' });
    const closedBefore = await accounts.create({ friendlyName: 'closed before' });
    await accounts(suspended.sid).update({ status: 'suspended' });
    await accounts(closedBefore.sid).update({ status: 'closed' });
    const mainKey = await newKey(main);
    const subKey = await newKey(active);
    const bystander = await t.createMain('Bystander');
    expect(await unauthorized(mainKey)).toEqual([200, undefined]);
    const untouched = (await streamEvents(t, closedBefore.sid)).length;
    const before = (await streamEvents(t, main.sid)).length;

    const closing = await runCli(['close', main.sid, '--json'], env);
    expect([closing.code, closing.stderr]).toEqual([0, expect.not.stringContaining('error')]);
    const shown = JSON.parse(closing.stdout);
    expect(shown).toMatchObject({ sid: main.sid, status: 'closed', type: 'Full' });
    expect(shown).not.toHaveProperty('auth_token');
    // The CLI carries the cascade itself, unless the service's projector got to the batch first.
    await settle(t);

    const [cause, ...followUps] = (await streamEvents(t, main.sid)).slice(before);
    expect(cause).toMatchObject({ type: 'AccountStatusChanged', data: { previous: 'active', status: 'closed', reason: 'operator' } });
    expect(cause.metadata).toMatchObject({ actorType: 'operator', source: 'cli' });
    const caused = (e: StoredEvent) => expect(e.metadata).toMatchObject({ causationId: cause.event_id, actorType: 'system', source: 'system' });
    // Each subaccount's close is released on the owner in the same append, as a requested close is.
    expect(followUps.map((e) => [e.type, e.data.subaccountSid]).sort()).toEqual(
      [['SubaccountReleased', active.sid], ['SubaccountReleased', suspended.sid]].sort(),
    );
    followUps.forEach(caused);
    for (const [sub, previous] of [[active, 'active'], [suspended, 'suspended']] as const) {
      const effect = last(await streamEvents(t, sub.sid));
      expect(effect).toMatchObject({ type: 'AccountStatusChanged', data: { previous, status: 'closed', reason: 'owner_closed' } });
      caused(effect);
    }
    expect(await streamEvents(t, closedBefore.sid)).toHaveLength(untouched);

    // Every credential of the tenant, auth token or API key, main or subaccount: 401 20003.
    for (const account of [main, active, suspended]) {
      const error = await restError(clientFor(t, account).api.v2010.accounts(account.sid).fetch());
      expect([error.status, error.code]).toEqual([401, 20003]);
      expect(error.message).toMatch(/not active \(closed\)/);
    }
    for (const key of [mainKey, subKey]) expect(await unauthorized(key)).toEqual([401, 20003]);
    expect((await clientFor(t, bystander).api.v2010.accounts(bystander.sid).fetch()).status).toBe('active');
    const statuses = await sql<{ sid: string; status: string }>`SELECT sid, status FROM account_read_model WHERE owner_account_sid = ${main.sid}`.execute(t.database.db);
    expect(Object.fromEntries(statuses.rows.map((r) => [r.sid, r.status]))).toEqual({
      [main.sid]: 'closed',
      [active.sid]: 'closed',
      [suspended.sid]: 'closed',
      [closedBefore.sid]: 'closed',
    });
    expect(JSON.parse((await runCli(['verify', '--json'], env)).stdout)).toMatchObject({ ok: true });

    // The audit trail (what /v1/Events serves) shows the operator's close and the closes it caused.
    const audit: AuditLine[] = JSON.parse((await runCli(['audit', '--json', '--limit', '100'], env)).stdout);
    const closes = audit.filter((e) => e.account_sid === main.sid && e.event_data.status?.updated === 'closed' && e.resource_sid !== closedBefore.sid);
    const byResource = Object.fromEntries(closes.map((e) => [e.resource_sid, e]));
    expect(Object.keys(byResource).sort()).toEqual([main.sid, active.sid, suspended.sid].sort());
    expect(byResource[main.sid]).toMatchObject({ actor_type: 'operator', source: 'cli', causation_id: null, description: 'Status changed from active to closed' });
    for (const [sub, previous] of [[active, 'active'], [suspended, 'suspended']] as const) {
      expect(byResource[sub.sid]).toMatchObject({
        actor_type: 'system',
        causation_id: cause.event_id,
        description: `Status changed from ${previous} to closed (its owner account was closed)`,
      });
    }
  }, CLI_TEST_MS);

  it('closing twice, or a subaccount, is refused in one line with exit 1 and changes nothing', async () => {
    const main = await t.createMain('Twice');
    const sub = await clientFor(t, main).api.v2010.accounts.create({ friendlyName: 'sub' });
    expect((await runCli(['close', main.sid], env)).stdout).toBe(`closed ${main.sid}: status closed, type Full\n`);
    await settle(t);
    const count = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events`.execute(t.database.db)).rows[0].n);
    const stored = await count();

    const again = await runCli(['close', main.sid], env);
    expect([again.code, again.stdout, again.stderr]).toEqual([1, '', `error: Account ${main.sid} is closed\n`]);
    // Every other operator command refuses it the same way (the domain's spec covers each).
    const suspending = await runCli(['suspend', main.sid], env);
    expect([suspending.code, suspending.stderr]).toEqual([1, `error: Account ${main.sid} is closed\n`]);
    const ofSub = await runCli(['close', sub.sid], env);
    expect(ofSub.code).toBe(1);
    expect(ofSub.stderr).toMatch(/^error: Account AC[0-9a-f]{32} is a subaccount; operator commands apply to main accounts\n$/);
    expect(await count()).toBe(stored);
  }, CLI_TEST_MS);
});
