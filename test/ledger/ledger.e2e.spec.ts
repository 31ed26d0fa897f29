import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import twilio from 'twilio';
import { runCli } from '../support/processes';
import { referenceLeaves, referenceRoot, referenceRootFromPath, referenceSignatureHolds } from '../support/ledger-reference';
import { startTestApp, type TestApp } from '../support/test-app';

/** The ledger end to end: the projection, the CLI's head, verify, prove and check, a rebuild, and a tampered event. */
describe('ledger', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let dir: string;
  let client: ReturnType<typeof twilio>;
  let subSid: string;

  const cli = async (args: string[], expectCode = 0) => {
    const result = await runCli(args, env);
    if (result.code !== expectCode) throw new Error(`ledger ${args.join(' ')} exited ${result.code}, not ${expectCode}: ${result.stderr}${result.stdout}`);
    return result;
  };
  const file = async (name: string, text: string) => {
    const at = path.join(dir, name);
    await writeFile(at, text);
    return at;
  };
  const leavesTable = async () => (await sql<{ leaves: string }>`SELECT string_agg(leaf_index || ':' || global_position || ':' || encode(hashes, 'hex'), ',' ORDER BY leaf_index) AS leaves FROM ledger_leaves`.execute(t.database.db)).rows[0].leaves;
  const heads = async () => (await sql<{ tree_size: number; root: string; sig: string }>`SELECT tree_size, encode(root_hash, 'hex') AS root, encode(signature, 'hex') AS sig FROM ledger_heads ORDER BY tree_size`.execute(t.database.db)).rows;

  beforeAll(async () => {
    t = await startTestApp();
    env = { DATABASE_URL: t.database.url, ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!, DATA_DIR: t.runtime.config.DATA_DIR };
    dir = await mkdtemp(path.join(tmpdir(), 'ledger-e2e-'));
    const main = await t.createMain('Ledger main', 'Full');
    // Transaction ids past the next power of ten, when it is near (the server's ids are shared by
    // every test file): feed order is numeric, never the ids' text order (a bug once).
    const xid = async () => BigInt((await sql<{ x: string }>`SELECT pg_current_xact_id()::text AS x`.execute(t.database.db)).rows[0].x);
    const next = 10n ** BigInt(String(await xid()).length);
    if (next - (await xid()) < 3000n) for (let at = await xid(); at < next; at = await xid());
    client = twilio(main.sid, main.authToken);
    client.api.baseUrl = t.baseUrl;
    client.monitor.baseUrl = t.baseUrl;
    subSid = (await client.api.v2010.accounts.create({ friendlyName: 'one' })).sid;
    for (const name of ['two', 'three', 'four', 'five']) await client.api.v2010.accounts(subSid).update({ friendlyName: name });
    await t.drainProjections();
  });
  afterAll(() => t.close());

  it('signs a head over the whole log that an outsider recomputes from the README alone', async () => {
    const head = JSON.parse((await cli(['ledger', 'head', '--json'])).stdout);
    const reference = await referenceLeaves(t.database.db);
    expect(head.tree_size).toBe(reference.length);
    expect(head.root_hash).toBe(referenceRoot(reference.map((e) => e.leaf)).toString('hex'));
    expect(referenceSignatureHolds(head)).toBe(true);
    expect(head.key_id).toBe(t.runtime.headSigner.keyId);
    expect(referenceSignatureHolds({ ...head, tree_size: head.tree_size + 1 })).toBe(false);
    // The private key is nowhere in the database.
    const seed = readFileSync(path.join(t.runtime.config.DATA_DIR, 'ledger-signing.key'), 'utf8').trim();
    const dump = (await sql<{ t: string }>`SELECT string_agg(encode(public_key, 'hex') || encode(signature, 'hex') || key_id, '') AS t FROM ledger_heads`.execute(t.database.db)).rows[0].t;
    expect(dump).not.toContain(seed);
    expect((await cli(['ledger', 'head'])).stdout).toMatch(new RegExp(`tree size +${reference.length}`));
  });

  it('verify: every hash and head holds, and the log extends a kept head (consistency proof)', async () => {
    const kept = await file('kept.json', (await cli(['ledger', 'head', '--json'])).stdout);
    await client.api.v2010.accounts(subSid).update({ friendlyName: 'six' });
    await t.drainProjections();
    const result = JSON.parse((await cli(['ledger', 'verify', '--head', kept, '--json'])).stdout);
    expect(result).toMatchObject({ ok: true, first_difference: null, problems: [] });
    expect(result.events).toBe((await referenceLeaves(t.database.db)).length);
    expect(result.given_heads).toEqual([expect.objectContaining({ ok: true })]);
    expect(result.stored_heads_checked).toBe((await heads()).length);
    // A head file that is not JSON, or not a head: a usage error.
    expect((await cli(['ledger', 'verify', '--head', await file('junk.json', '{"tree_size": 1}')], 2)).stderr).toMatch(/head file .*junk\.json: key_id is missing/);
  });

  it('prove + check: an inclusion proof for an audit event, checked offline and by the reference walk; a changed proof or another head fails', async () => {
    const events = await client.monitor.v1.events.list({ resourceSid: subSid, limit: 3 });
    const sid = events[1].sid;
    const proofText = (await cli(['ledger', 'prove', sid, '--json'])).stdout;
    const proof = JSON.parse(proofText);
    const head = JSON.parse((await cli(['ledger', 'head', '--json'])).stdout);
    const reference = await referenceLeaves(t.database.db);
    const index = reference.findIndex((e) => e.event_id.replace(/-/g, '') === sid.slice(2));
    expect(proof).toMatchObject({ leaf_index: index, tree_size: head.tree_size, leaf_hash: reference[index].leaf.toString('hex') });
    expect(referenceRootFromPath(index, head.tree_size, reference[index].leaf, proof.inclusion_path.map((h: string) => Buffer.from(h, 'hex')))?.toString('hex')).toBe(head.root_hash);

    const headFile = await file('head.json', JSON.stringify(head));
    const check = await cli(['ledger', 'check', '--head', headFile, '--proof', await file('proof.json', proofText), '--json'], 0);
    expect(JSON.parse(check.stdout).ok).toBe(true);
    const changed = { ...proof, inclusion_path: [...proof.inclusion_path] };
    changed.inclusion_path[0] = changed.inclusion_path[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
    expect(JSON.parse((await cli(['ledger', 'check', '--head', headFile, '--proof', await file('changed.json', JSON.stringify(changed)), '--json'], 1)).stdout).ok).toBe(false);
    const otherEvent = { ...proof, event: { ...proof.event, data: { ...proof.event.data, friendlyName: 'forged' } } };
    expect((await cli(['ledger', 'check', '--head', headFile, '--proof', await file('other.json', JSON.stringify(otherEvent))], 1)).stdout).toMatch(/FAIL the event in the proof hashes/);
    const forgedHead = await file('forged-head.json', JSON.stringify({ ...head, root_hash: reference[0].leaf.toString('hex') }));
    expect((await cli(['ledger', 'check', '--head', forgedHead, '--proof', await file('proof2.json', proofText)], 1)).stdout).toMatch(/FAIL the head/);
    // Offline: no database, no configuration, no key.
    const offline = await runCli(['ledger', 'check', '--head', headFile, '--proof', await file('proof3.json', proofText)], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATA_DIR: '/nonexistent' });
    expect(offline.code).toBe(0);
    expect((await cli(['ledger', 'prove', 'AE' + '0'.repeat(32)], 1)).stderr).toMatch(/no event/);
    expect((await cli(['ledger', 'prove', 'nonsense'], 2)).stderr).toMatch(/not an event sid/);
  });

  it('projections rebuild ledger reproduces exactly the same tree and checks every stored head', async () => {
    const before = await leavesTable();
    const headsBefore = await heads();
    const result = JSON.parse((await cli(['projections', 'rebuild', 'ledger', '--batch-size', '2', '--json'])).stdout);
    expect(result.events).toBeGreaterThan(0);
    expect(await leavesTable()).toBe(before);
    expect((await heads()).slice(0, headsBefore.length)).toEqual(headsBefore);
    expect(JSON.parse((await cli(['ledger', 'verify', '--json'])).stdout).ok).toBe(true);
  });

  it('a byte changed by a superuser: verify names the position, a rebuild refuses and signs nothing', async () => {
    const kept = await file('before-tamper.json', (await cli(['ledger', 'head', '--json'])).stdout);
    const reference = await referenceLeaves(t.database.db);
    const victim = reference[3];
    await t.database.db.connection().execute(async (c) => {
      await sql`SET session_replication_role = replica`.execute(c);
      await sql`UPDATE events SET data = jsonb_set(data, '{friendlyName}', to_jsonb(coalesce(data->>'friendlyName', '') || 'x')) WHERE global_position = ${victim.global_position}`.execute(c);
      await sql`RESET session_replication_role`.execute(c);
    });
    const verify = await cli(['ledger', 'verify', '--head', kept, '--json'], 1);
    const report = JSON.parse(verify.stdout);
    expect(report.first_difference).toMatchObject({ from: 3, to: 3, global_position: victim.global_position, event_id: victim.event_id });
    expect(report.given_heads[0].ok).toBe(false);
    const human = await cli(['ledger', 'verify'], 1);
    expect(human.stdout).toMatch(/TAMPERED: first difference at position 3/);

    const headsBefore = await heads();
    const rebuild = await cli(['projections', 'rebuild', 'ledger'], 1);
    expect(rebuild.stderr).toMatch(/no longer hash to the root signed/);
    expect(await heads()).toEqual(headsBefore);
  });
});
