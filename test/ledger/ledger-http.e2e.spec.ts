import twilio from 'twilio';
import { referenceLeaves, referenceRootFromPath, referenceSignatureHolds } from '../support/ledger-reference';
import { startTestApp, type TestApp } from '../support/test-app';

/** GET /v1/Ledger/Head and GET /v1/Events/{Sid}/Proof: Basic auth, Monitor's visibility, proofs an outsider can check. */
describe('ledger over HTTP', () => {
  let t: TestApp;
  const accounts: Record<string, { sid: string; authToken: string }> = {};
  const events: Record<string, string> = {};

  const get = async (path: string, as?: { sid: string; authToken: string }, method = 'GET') => {
    const response = await fetch(`${t.baseUrl}${path}`, {
      method,
      headers: as ? { authorization: `Basic ${Buffer.from(`${as.sid}:${as.authToken}`).toString('base64')}` } : {},
    });
    const text = await response.text();
    return { status: response.status, text, json: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    t = await startTestApp();
    const a = await t.createMain('Tenant A', 'Full');
    const b = await t.createMain('Tenant B', 'Full');
    accounts.a = { sid: a.sid, authToken: a.authToken };
    accounts.b = { sid: b.sid, authToken: b.authToken };
    const client = twilio(a.sid, a.authToken);
    client.api.baseUrl = t.baseUrl;
    const sub = await client.api.v2010.accounts.create({ friendlyName: 'A1' });
    accounts.a1 = { sid: sub.sid, authToken: sub.authToken };
    await t.drainProjections();
    client.monitor.baseUrl = t.baseUrl;
    for (const [who, sid] of [
      ['a', a.sid],
      ['a1', sub.sid],
      ['b', b.sid],
    ] as const) {
      const owner = who === 'b' ? twilio(b.sid, b.authToken) : client;
      owner.monitor.baseUrl = t.baseUrl;
      events[who] = (await owner.monitor.v1.events.list({ resourceSid: sid, limit: 20 })).at(-1)!.sid;
    }
  });
  afterAll(() => t.close());

  it('GET /v1/Ledger/Head: the latest signed head, for any authenticated account', async () => {
    expect((await get('/v1/Ledger/Head')).status).toBe(401);
    const head = await get('/v1/Ledger/Head', accounts.a1);
    expect(head.status).toBe(200);
    expect(head.json).toMatchObject({ tree_size: (await referenceLeaves(t.database.db)).length, key_id: t.runtime.headSigner.keyId, url: `${t.baseUrl}/v1/Ledger/Head` });
    expect(referenceSignatureHolds(head.json)).toBe(true);
    expect((await get('/v1/Ledger/Head', accounts.a, 'POST')).json).toMatchObject({ status: 405, code: 20004 });
  });

  it('GET /v1/Events/{Sid}/Proof: a proof for an event the caller may see, checked by the reference walk; 404 for any other', async () => {
    const reference = await referenceLeaves(t.database.db);
    const { url: _url, ...head } = (await get('/v1/Ledger/Head', accounts.a)).json;
    const visible: [string, string][] = [
      ['a', 'a'],
      ['a', 'a1'],
      ['a1', 'a1'],
      ['b', 'b'],
    ];
    for (const [caller, owner] of visible) {
      const proof = await get(`/v1/Events/${events[owner]}/Proof`, accounts[caller]);
      expect(proof.status).toBe(200);
      const index = reference.findIndex((e) => e.event_id.replace(/-/g, '') === events[owner].slice(2));
      expect(proof.json).toMatchObject({ event_sid: events[owner], leaf_index: index, leaf_hash: reference[index].leaf.toString('hex'), tree_size: head.tree_size, head });
      expect(proof.json).not.toHaveProperty('event');
      const root = referenceRootFromPath(index, head.tree_size, reference[index].leaf, proof.json.inclusion_path.map((h: string) => Buffer.from(h, 'hex')));
      expect(root?.toString('hex')).toBe(head.root_hash);
      // Other tenants' events are on the path only as hashes: nothing of theirs by name.
      for (const other of Object.values(accounts)) if (other.sid !== accounts[caller].sid && other.sid !== accounts[owner].sid) expect(proof.text).not.toContain(other.sid);
    }
    for (const [caller, owner] of [
      ['a', 'b'],
      ['b', 'a'],
      ['b', 'a1'],
      ['a1', 'a'],
    ]) {
      expect((await get(`/v1/Events/${events[owner]}/Proof`, accounts[caller])).json).toMatchObject({ status: 404, code: 20404 });
    }
    expect((await get(`/v1/Events/${events.a}/Proof`)).status).toBe(401);
    expect((await get('/v1/Events/AEnothing/Proof', accounts.a)).json).toMatchObject({ status: 404, code: 20404 });
    expect((await get(`/v1/Events/AE${'0'.repeat(32)}/Proof`, accounts.a)).json).toMatchObject({ status: 404, code: 20404 });
  });

  it('TreeSize proves against a kept head; one that names no head, or is no count, is 400 20002', async () => {
    const { url: _url, ...kept } = (await get('/v1/Ledger/Head', accounts.a)).json;
    const client = twilio(accounts.a.sid, accounts.a.authToken);
    client.api.baseUrl = t.baseUrl;
    await client.api.v2010.accounts(accounts.a1.sid).update({ friendlyName: 'A1 renamed' });
    await t.drainProjections();
    expect((await get('/v1/Ledger/Head', accounts.a)).json.tree_size).toBeGreaterThan(kept.tree_size);
    const proof = await get(`/v1/Events/${events.a1}/Proof?TreeSize=${kept.tree_size}`, accounts.a);
    expect(proof.json).toMatchObject({ tree_size: kept.tree_size, head: kept });
    for (const bad of ['0', '-1', 'abc', '1e3', '99999999', '12345678901234567890']) {
      expect((await get(`/v1/Events/${events.a1}/Proof?TreeSize=${bad}`, accounts.a)).json).toMatchObject({ status: 400, code: 20002 });
    }
    expect((await get(`/v1/Events/${events.a1}/Proof?TreeSize=1&TreeSize=2`, accounts.a)).json).toMatchObject({ status: 400, code: 20002 });
  });
});
