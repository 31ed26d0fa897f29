import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canonicalJson, encodeEvent, eventLeafHash, type StoredEvent } from './event-encoding';
import { loadOrCreateSigningKey } from './signing-key.loader';
import { HeadFormatError, HeadSigner, headFromJson, headMessage, headToJson, signatureHolds } from './tree-head';

const event: StoredEvent = {
  global_position: 7,
  stream_id: 'account-AC0123',
  stream_version: 2,
  event_id: '0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  type: 'AccountRenamed',
  schema_version: 1,
  data: { friendlyName: 'é "x"\n', z: [1, 2.5, null, true], a: {} },
  metadata: { actorType: 'account', sourceIp: null },
  recorded_at: '2026-12-05T12:07:48.123456Z',
};

describe('canonical event encoding', () => {
  it('is RFC 8785 JSON: members sorted, no whitespace, ECMAScript numbers and escapes', () => {
    expect(canonicalJson({ b: 1, a: [1e21, 0.1, -0, 'é\u2028'], é: 2 })).toBe('{"a":[1e+21,0.1,0,"é\u2028"],"b":1,"é":2}');
    expect(canonicalJson({ '\ud83d\ude00': 1, '\ufb33': 2 })).toBe('{"\ud83d\ude00":1,"\ufb33":2}');
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(TypeError);
  });

  it('covers every stored field: the leaf is SHA-256(0x00 || the encoding) and changes with any of them', () => {
    const encoding = encodeEvent(event).toString('utf8');
    expect(encoding).toBe(
      '{"data":{"a":{},"friendlyName":"é \\"x\\"\\n","z":[1,2.5,null,true]},"event_id":"0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","global_position":7,' +
        '"metadata":{"actorType":"account","sourceIp":null},"recorded_at":"2026-12-05T12:07:48.123456Z","schema_version":1,"stream_id":"account-AC0123","stream_version":2,"type":"AccountRenamed"}',
    );
    expect(eventLeafHash(event)).toEqual(createHash('sha256').update(Buffer.from([0])).update(encoding, 'utf8').digest());
    const changes: Partial<StoredEvent>[] = [
      { global_position: 8 },
      { stream_id: 'account-AC0124' },
      { stream_version: 3 },
      { event_id: '0b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e' },
      { type: 'AccountRenamedX' },
      { schema_version: 2 },
      { data: { ...(event.data as object), friendlyName: 'é "y"\n' } },
      { metadata: { actorType: 'operator', sourceIp: null } },
      { recorded_at: '2026-12-05T12:07:48.123457Z' },
    ];
    for (const change of changes) expect(eventLeafHash({ ...event, ...change })).not.toEqual(eventLeafHash(event));
  });

  it('writes the nine members in the order canonicalJson sorts them into, whatever their values', () => {
    const odd: StoredEvent[] = [
      event,
      { ...event, stream_id: 'a"\\\u0001\u2028', type: '', data: [], metadata: {} },
      { ...event, data: { '10': 1, '2': 2, b: { y: [{}], x: -0.5e-7 } }, metadata: { '\ud83d\ude00': '\ud800' } },
      // A proof file's event may hold anything: each member is encoded as it is, never coerced.
      { ...event, global_position: '7' as unknown as number, stream_version: 2.5 },
    ];
    for (const e of odd) expect(encodeEvent(e).toString('utf8')).toBe(canonicalJson({ ...e }));
    expect(() => encodeEvent({ ...event, recorded_at: undefined as unknown as string })).toThrow(TypeError);
  });
});

describe('signed tree heads', () => {
  const signer = new HeadSigner(Buffer.alloc(32, 7));
  const root = createHash('sha256').update('root').digest();

  it('are Ed25519 signatures over the documented message, checkable with the public key alone', () => {
    const head = signer.sign(42, root, 1_790_000_000_000);
    expect(headMessage(head).toString('ascii')).toBe(`accountable-ledger-tree-head-v1\n42\n1790000000000\n${root.toString('hex')}\n`);
    expect(signatureHolds(head)).toBe(true);
    const json = JSON.parse(JSON.stringify(headToJson(head)));
    expect(signatureHolds(headFromJson(json))).toBe(true);
    for (const forged of [{ ...head, treeSize: 43 }, { ...head, rootHash: createHash('sha256').update('other').digest() }, { ...head, timestamp: head.timestamp + 1 }]) {
      expect(signatureHolds(forged)).toBe(false);
    }
    // Another key's valid signature over the same fields is that key's head, not this ledger's.
    const other = new HeadSigner(Buffer.alloc(32, 8)).sign(42, root, head.timestamp);
    expect(signatureHolds(other)).toBe(true);
    expect(other.keyId).not.toBe(head.keyId);
    expect(signatureHolds({ ...other, keyId: head.keyId })).toBe(false);
  });

  it('agrees with a key made by node:crypto itself (RFC 8032 seed → public key)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const mine = new HeadSigner(seed);
    expect(mine.publicKey).toEqual(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
    const head = mine.sign(1, root, 5);
    expect(head.signature).toEqual(sign(null, headMessage(head), privateKey));
  });

  it('refuses malformed head files with a format error', () => {
    const good = headToJson(signer.sign(3, root, 9));
    for (const bad of [null, [], 'x', { ...good, tree_size: -1 }, { ...good, tree_size: 0 }, { ...good, root_hash: 'zz' }, { ...good, signature: good.signature.slice(2) }, { ...good, key_id: 1 }]) {
      expect(() => headFromJson(bad)).toThrow(HeadFormatError);
    }
  });
});

describe('the signing key', () => {
  it('is generated once into DATA_DIR with mode 0600, read back after, and taken from LEDGER_SIGNING_KEY when set', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ledger-key-'));
    const first = await loadOrCreateSigningKey({ dataDir: dir });
    expect(first).toHaveLength(32);
    expect((await stat(path.join(dir, 'ledger-signing.key'))).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateSigningKey({ dataDir: dir })).toEqual(first);
    const configured = 'ab'.repeat(32);
    expect(await loadOrCreateSigningKey({ dataDir: dir, keyHex: configured })).toEqual(Buffer.from(configured, 'hex'));
    await expect(loadOrCreateSigningKey({ keyHex: 'abc' })).rejects.toThrow(/LEDGER_SIGNING_KEY/);
    await writeFile(path.join(dir, 'ledger-signing.key'), 'broken\n');
    await expect(loadOrCreateSigningKey({ dataDir: dir })).rejects.toThrow(/restore it from backup/);
    expect(await readFile(path.join(dir, 'ledger-signing.key'), 'utf8')).toBe('broken\n');
  });
});
