import { startTestApp, type TestApp } from '../support/test-app';
import { describeOutcome, isTwilioError, send, type Credentials, type Outcome } from './support/http';
import { recordResult } from './support/results';

interface Principal {
  name: string;
  creds?: Credentials;
  /** Accounts it may see; empty for a principal that does not authenticate. */
  visible: Set<string>;
  /** Sids it knows anyway: its own (it sent it) and, for a subaccount, its owner (owner_account_sid). */
  knows: Set<string>;
  authenticates: boolean;
}

interface Account {
  name: string;
  sid: string;
  status: 'active' | 'suspended' | 'closed';
  isMain: boolean;
  friendlyName: string;
}

/**
 * Every endpoint × every principal: nobody, a wrong token, a main account, its subaccount, a
 * sibling subaccount and its secondary token, another tenant's main account, a suspended and a
 * closed subaccount; then two API keys (A1's, B1's), which are their account on /v1/Events and
 * refused everywhere else. Keys of every account are listed, fetched, renamed and deleted by all. Each
 * request has one expected status and Twilio code, and no response may name an account or event
 * sid the principal may not see (unless the request itself named it) — including through page
 * tokens minted by another tenant and audit filters naming another tenant's sids. Writes that
 * must be refused try a real change, so a leak would also show in the log; the log must not grow.
 */
describe('tenant isolation matrix', () => {
  let t: TestApp;
  const accounts: Record<string, Account> = {};
  /** API keys (sid, secret) by the account that owns them. */
  const keys: Record<string, Credentials> = {};
  let principals: Principal[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    const a = await t.createMain('Tenant A', 'Full');
    const b = await t.createMain('Tenant B', 'Full');
    const mainA = { sid: a.sid, authToken: a.authToken };
    const mainB = { sid: b.sid, authToken: b.authToken };
    accounts.A = { name: 'A', sid: a.sid, status: 'active', isMain: true, friendlyName: 'Tenant A' };
    accounts.B = { name: 'B', sid: b.sid, status: 'active', isMain: true, friendlyName: 'Tenant B' };
    const creds: Record<string, Credentials> = { A: mainA, B: mainB };
    for (const [name, owner, status] of [
      ['A1', mainA, 'active'],
      ['A2', mainA, 'active'],
      ['A3', mainA, 'suspended'],
      ['A4', mainA, 'closed'],
      ['B1', mainB, 'active'],
    ] as const) {
      const created = await send(t.baseUrl, '/2010-04-01/Accounts.json', { as: owner, body: { FriendlyName: `sub ${name}` } });
      expect(describeOutcome(created)).toMatch(/^201 /);
      const sub = { sid: (created as any).json.sid, authToken: (created as any).json.auth_token };
      creds[name] = sub;
      // Some history on each, by the owner and by the account itself.
      expect(describeOutcome(await send(t.baseUrl, `/2010-04-01/Accounts/${sub.sid}.json`, { as: owner, body: { FriendlyName: `${name} by owner` } }))).toMatch(/^200 /);
      expect(describeOutcome(await send(t.baseUrl, `/2010-04-01/Accounts/${sub.sid}.json`, { as: sub, body: { FriendlyName: `${name} itself` } }))).toMatch(/^200 /);
      if (status !== 'active') expect(describeOutcome(await send(t.baseUrl, `/2010-04-01/Accounts/${sub.sid}.json`, { as: owner, body: { Status: status } }))).toMatch(/^200 /);
      accounts[name] = { name, sid: sub.sid, status, isMain: false, friendlyName: `${name} itself` };
    }
    // Credentials of their own: an API key on A1 and on B1, and a secondary token on A2.
    for (const [name, owner] of [['A1', mainA], ['B1', mainB]] as const) {
      const key = await send(t.baseUrl, `/2010-04-01/Accounts/${accounts[name].sid}/Keys.json`, { as: owner, body: { FriendlyName: `key of ${name}` } });
      expect(describeOutcome(key)).toMatch(/^201 /);
      keys[name] = { sid: (key as any).json.sid, authToken: (key as any).json.secret };
    }
    const secondary = await send(t.baseUrl, '/v1/AuthTokens/Secondary', { as: creds.A2, method: 'POST' });
    expect(describeOutcome(secondary)).toMatch(/^201 /);
    const a2Secondary = { sid: creds.A2.sid, authToken: (secondary as any).json.secondary_auth_token };
    await t.drainProjections();
    const sidsOf = (...names: string[]) => new Set(names.map((n) => accounts[n].sid));
    const principal = (name: string, c: Credentials | undefined, visible: Set<string>, authenticates: boolean, owner?: string): Principal => ({
      name,
      creds: c,
      visible,
      knows: new Set([...(c ? [c.sid] : []), ...(owner ? [owner] : [])]),
      authenticates,
    });
    principals = [
      principal('nobody', undefined, new Set(), false),
      principal('wrong token', { sid: mainA.sid, authToken: mainB.authToken }, new Set(), false),
      principal('main A', mainA, sidsOf('A', 'A1', 'A2', 'A3', 'A4'), true),
      principal('its subaccount A1', creds.A1, sidsOf('A1'), true, mainA.sid),
      principal('sibling subaccount A2', creds.A2, sidsOf('A2'), true, mainA.sid),
      principal('secondary token of A2', a2Secondary, sidsOf('A2'), true, mainA.sid),
      principal('other main B', mainB, sidsOf('B', 'B1'), true),
      principal('suspended subaccount A3', creds.A3, new Set(), false, mainA.sid),
      principal('closed subaccount A4', creds.A4, new Set(), false, mainA.sid),
    ];
  });
  afterAll(() => t?.close());

  it('9 principals and 2 API keys × every endpoint: the expected status and code each time, zero leaks', async () => {
    const figures = { principals: principals.length, accounts: Object.keys(accounts).length, requests: 0, 'page tokens crossed': 0, 'leaks found': 0 };
    let held = '';
    const wrong: string[] = [];
    try {
      const eventCount = async () => Number((await t.database.pool.query('SELECT count(*) AS n FROM events')).rows[0].n);
      const readModel = async () => (await t.database.pool.query('SELECT t::text AS row FROM account_read_model t ORDER BY sid')).rows.map((r) => r.row);
      const audit = (await t.database.pool.query<{ sid: string; resource_sid: string; actor_sid: string | null }>('SELECT sid, resource_sid, actor_sid FROM audit_history')).rows;
      const eventsBefore = await eventCount();
      const readModelBefore = await readModel();
      const allAccountSids = Object.values(accounts).map((a) => a.sid);
      const unknownSid = `AC${'0'.repeat(32)}`;
      const visibleKeys = (p: Principal) => Object.entries(keys).filter(([name]) => p.visible.has(accounts[name].sid)).map(([, key]) => key.sid);
      const visibleEvents = (p: Principal) => new Set(audit.filter((e) => p.visible.has(e.resource_sid)).map((e) => e.sid));

      /** One request: checks status and code, and scans the body for sids the principal may not see. */
      async function check(p: Principal, label: string, path: string, expected: [number, number?], options: { method?: string; body?: Record<string, string> } = {}): Promise<Outcome> {
        const o = await send(t.baseUrl, path, { method: options.method, as: p.creds, body: options.body });
        figures.requests++;
        const [status, code] = expected;
        const ok = o.kind === 'response' && o.status === status && (status < 300 || isTwilioError(o, status, code));
        if (!ok) wrong.push(`${p.name} → ${label} ${path}: expected ${status}${code ? ` ${code}` : ''}, got ${describeOutcome(o)}`);
        if (o.kind === 'response') {
          const allowed = new Set([...p.visible, ...p.knows, ...visibleEvents(p), ...visibleKeys(p)]);
          // A created subaccount is the caller's from now on.
          if (o.status === 201 && typeof o.json?.sid === 'string') allowed.add(o.json.sid);
          const named = `${path} ${JSON.stringify(options.body ?? {})}`;
          for (const sid of o.text.match(/(?:A[CE]|SK)[0-9a-f]{32}/g) ?? []) {
            if (!allowed.has(sid) && !named.includes(sid)) {
              figures['leaks found']++;
              wrong.push(`LEAK ${p.name} → ${label} ${path}: the answer names ${sid}`);
            }
          }
        }
        return o;
      }
      const unauthorized: [number, number] = [401, 20003];

      for (const p of principals) {
        const auth = (expected: [number, number?]): [number, number?] => (p.authenticates ? expected : unauthorized);

        // The list: exactly the visible accounts.
        const list = await check(p, 'list', '/2010-04-01/Accounts.json?PageSize=1000', auth([200]));
        if (p.authenticates && list.kind === 'response') {
          const listed = new Set<string>(list.json.accounts.map((a: { sid: string }) => a.sid));
          if ([...listed].sort().join() !== [...p.visible].sort().join()) wrong.push(`${p.name}: lists ${[...listed].join(', ')}`);
        }

        for (const target of [...Object.values(accounts), { name: 'unknown', sid: unknownSid, status: 'active', isMain: false, friendlyName: 'x' } as Account]) {
          const path = `/2010-04-01/Accounts/${target.sid}.json`;
          const sees = p.visible.has(target.sid);
          await check(p, `fetch ${target.name}`, path, auth(sees ? [200] : [404, 20404]));

          // Rename: a no-op where allowed (nothing changes), a real change where it must be refused.
          const renameExpected: [number, number?] = !sees ? [404, 20404] : target.status === 'closed' ? [400, 21479] : [200];
          const name = renameExpected[0] === 200 ? target.friendlyName : `hijacked by ${p.name}`;
          await check(p, `rename ${target.name}`, path, auth(renameExpected), { body: { FriendlyName: name } });

          // Status: the status it already has (a no-op where allowed), or suspended where it must be refused.
          const statusExpected: [number, number?] = !sees
            ? [404, 20404]
            : target.status === 'closed'
              ? [400, 21479]
              : target.isMain
                ? [400, 21477]
                : p.creds?.sid === target.sid
                  ? [403, 20006]
                  : [200];
          const status = statusExpected[0] === 200 ? target.status : target.status === 'active' ? 'suspended' : 'active';
          await check(p, `status ${target.name}`, path, auth(statusExpected), { body: { Status: status } });
        }

        // API keys of every account: listed and fetched where the account is visible; elsewhere
        // 404, a creation, a rename and a deletion included (each a real change if it leaked).
        for (const target of Object.values(accounts)) {
          const keysPath = `/2010-04-01/Accounts/${target.sid}/Keys.json`;
          const sees = p.visible.has(target.sid);
          const list = await check(p, `keys of ${target.name}`, keysPath, auth(sees ? [200] : [404, 20404]));
          if (sees && p.authenticates && list.kind === 'response') {
            const listed = list.json.keys.map((k: { sid: string }) => k.sid);
            const expected = keys[target.name] ? [keys[target.name].sid] : [];
            if (listed.join() !== expected.join()) wrong.push(`${p.name}: keys of ${target.name} lists ${listed.join(', ')}`);
          }
          if (!sees) await check(p, `create key on ${target.name}`, keysPath, auth([404, 20404]), { body: { FriendlyName: `by ${p.name}` } });
          for (const [owner, key] of Object.entries(keys)) {
            const keyPath = `/2010-04-01/Accounts/${target.sid}/Keys/${key.sid}.json`;
            // A key is found only under its own account, by whoever sees that account.
            const found = sees && owner === target.name;
            await check(p, `fetch key of ${owner} under ${target.name}`, keyPath, auth(found ? [200] : [404, 20404]));
            if (!found) {
              await check(p, `rename key of ${owner} under ${target.name}`, keyPath, auth([404, 20404]), { body: { FriendlyName: `hijacked by ${p.name}` } });
              await check(p, `delete key of ${owner} under ${target.name}`, keyPath, auth([404, 20404]), { method: 'DELETE' });
            }
          }
        }
        // Auth tokens act on the caller's own account only: with no secondary token, promotion and
        // deletion find nothing (A2's are left alone: it has one).
        if (p.creds?.sid !== accounts.A2.sid) {
          await check(p, 'promote', '/v1/AuthTokens/Promote', auth([404, 20404]), { method: 'POST' });
          await check(p, 'delete secondary', '/v1/AuthTokens/Secondary', auth([404, 20404]), { method: 'DELETE' });
        }

        // The audit: the list holds exactly the visible events; filters naming another tenant find nothing.
        const events = await check(p, 'events', '/v1/Events?PageSize=1000', auth([200]));
        if (p.authenticates && events.kind === 'response') {
          const listed = events.json.events.map((e: { sid: string }) => e.sid).sort();
          if (listed.join() !== [...visibleEvents(p)].sort().join()) wrong.push(`${p.name}: /v1/Events lists ${listed.length} events, expected ${visibleEvents(p).size}`);
        }
        for (const sid of allAccountSids) {
          for (const filter of ['ResourceSid', 'ActorSid']) {
            const o = await check(p, `events ${filter}`, `/v1/Events?${filter}=${sid}&PageSize=1000`, auth([200]));
            if (!p.authenticates || o.kind !== 'response') continue;
            const expected = audit.filter((e) => p.visible.has(e.resource_sid) && (filter === 'ResourceSid' ? e.resource_sid : e.actor_sid) === sid).map((e) => e.sid).sort();
            const got = o.json.events.map((e: { sid: string }) => e.sid).sort();
            if (got.join() !== expected.join()) wrong.push(`${p.name}: ${filter}=${sid} gives ${got.length} events, expected ${expected.length}`);
            if (!p.visible.has(sid) && filter === 'ResourceSid' && got.length > 0) wrong.push(`${p.name}: ResourceSid of another tenant returned events`);
          }
        }
        for (const event of audit) {
          await check(p, 'fetch event', `/v1/Events/${event.sid}`, auth(p.visible.has(event.resource_sid) ? [200] : [404, 20404]));
        }

        // Verbs the resources do not have: credentials first (401 without good ones), then 405 20004.
        for (const path of ['/2010-04-01/Accounts.json', `/2010-04-01/Accounts/${accounts.A1.sid}.json`, '/v1/Events', `/v1/Events/${audit[0].sid}`]) {
          for (const method of ['PUT', 'DELETE', 'PATCH']) await check(p, method, path, auth([405, 20004]), { method, body: { FriendlyName: 'x' } });
        }
        await check(p, 'POST', `/v1/Events/${audit[0].sid}`, auth([405, 20004]), { method: 'POST' });
      }

      // An API key is its account on /v1/Events and nothing on Accounts, Keys or AuthTokens (401 20003).
      for (const [owner, key] of Object.entries(keys)) {
        // Like its subaccount: it knows its owner (the events' account_sid).
        const ownerSid = owner.startsWith('A') ? accounts.A.sid : accounts.B.sid;
        const p: Principal = { name: `API key of ${owner}`, creds: key, visible: new Set([accounts[owner].sid]), knows: new Set([accounts[owner].sid, ownerSid]), authenticates: true };
        const events = await check(p, 'events', '/v1/Events?PageSize=1000', [200]);
        if (events.kind === 'response') {
          const listed = events.json.events.map((e: { sid: string }) => e.sid).sort();
          if (listed.join() !== [...visibleEvents(p)].sort().join()) wrong.push(`${p.name}: /v1/Events lists ${listed.length} events, expected ${visibleEvents(p).size}`);
        }
        for (const target of Object.values(accounts)) {
          await check(p, `fetch ${target.name}`, `/2010-04-01/Accounts/${target.sid}.json`, unauthorized);
          await check(p, `rename ${target.name}`, `/2010-04-01/Accounts/${target.sid}.json`, unauthorized, { body: { FriendlyName: `hijacked by ${p.name}` } });
          await check(p, `keys of ${target.name}`, `/2010-04-01/Accounts/${target.sid}/Keys.json`, unauthorized);
          await check(p, `create key on ${target.name}`, `/2010-04-01/Accounts/${target.sid}/Keys.json`, unauthorized, { body: {} });
          const o = await check(p, `events ResourceSid=${target.name}`, `/v1/Events?ResourceSid=${target.sid}&PageSize=1000`, [200]);
          if (o.kind === 'response' && !p.visible.has(target.sid) && o.json.events.length > 0) wrong.push(`${p.name}: ResourceSid of ${target.name} returned events`);
        }
        await check(p, 'list', '/2010-04-01/Accounts.json', unauthorized);
        await check(p, 'create', '/2010-04-01/Accounts.json', unauthorized, { body: { FriendlyName: `by ${p.name}` } });
        await check(p, 'create secondary', '/v1/AuthTokens/Secondary', unauthorized, { method: 'POST' });
        await check(p, 'promote', '/v1/AuthTokens/Promote', unauthorized, { method: 'POST' });
        for (const event of audit) await check(p, 'fetch event', `/v1/Events/${event.sid}`, p.visible.has(event.resource_sid) ? [200] : [404, 20404]);
      }

      // Page tokens minted by one tenant, used by every other principal: only the caller's own rows come back.
      const minted: { by: string; kind: 'accounts' | 'events'; token: string }[] = [];
      for (const p of principals.filter((x) => x.authenticates)) {
        for (const [kind, path, uriOf] of [
          ['accounts', '/2010-04-01/Accounts.json?PageSize=1', (j: any) => j.next_page_uri],
          ['events', '/v1/Events?PageSize=1', (j: any) => j.meta.next_page_url],
        ] as const) {
          const o = await send(t.baseUrl, path, { as: p.creds });
          const uri = o.kind === 'response' ? uriOf(o.json) : null;
          const token = uri ? new URL(uri, t.baseUrl).searchParams.get('PageToken') : null;
          if (token) minted.push({ by: p.name, kind, token });
          if (token) minted.push({ by: p.name, kind, token: `PB${token.slice(2)}` });
        }
      }
      expect(minted.length).toBeGreaterThanOrEqual(8);
      for (const p of principals) {
        for (const { by, kind, token } of minted) {
          if (by === p.name) continue;
          figures['page tokens crossed']++;
          const accountsPath = `/2010-04-01/Accounts.json?PageSize=1000&PageToken=${encodeURIComponent(token)}`;
          const eventsPath = `/v1/Events?PageSize=1000&PageToken=${encodeURIComponent(token)}`;
          // The token's own kind: a page of the caller's rows. The other kind: 400 21481.
          const own = await check(p, `${kind} token of ${by}`, kind === 'accounts' ? accountsPath : eventsPath, p.authenticates ? [200] : unauthorized);
          await check(p, `${kind} token of ${by} on the other list`, kind === 'accounts' ? eventsPath : accountsPath, p.authenticates ? [400, 21481] : unauthorized);
          if (p.authenticates && own.kind === 'response') {
            const rows: { sid: string }[] = kind === 'accounts' ? own.json.accounts : own.json.events;
            const allowed = kind === 'accounts' ? p.visible : visibleEvents(p);
            for (const row of rows) if (!allowed.has(row.sid)) wrong.push(`LEAK ${p.name} with ${by}'s ${kind} token: ${row.sid}`);
          }
        }
      }

      // Creating a subaccount: mains only; refused everywhere else.
      for (const p of principals) {
        const expected: [number, number?] = !p.authenticates ? unauthorized : p.visible.size > 1 ? [201] : [400, 21101];
        const o = await check(p, 'create', '/2010-04-01/Accounts.json', expected, { body: { FriendlyName: `created by ${p.name}` } });
        if (o.kind === 'response' && o.status === 201 && o.json.owner_account_sid !== p.creds!.sid) wrong.push(`${p.name} created a subaccount owned by ${o.json.owner_account_sid}`);
      }

      expect(wrong).toEqual([]);
      // Nothing the matrix was refused changed anything: only the two creates were written.
      expect(await eventCount()).toBe(eventsBefore + 4);
      const after = await readModel();
      expect(after.filter((row) => readModelBefore.includes(row))).toHaveLength(readModelBefore.length - 2); // the two owners' open-subaccount counts moved
      held = 'every status/code as expected; no foreign sid in any answer; refused writes changed nothing';
    } finally {
      recordResult({ item: 6, title: 'Tenant isolation matrix', figures, held });
    }
  }, 180_000);
});
