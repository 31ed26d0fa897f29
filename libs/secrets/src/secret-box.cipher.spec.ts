import { randomBytes } from 'node:crypto';
import { LEGACY_SEALS as LEGACY } from './legacy-seals.fixtures';
import { keyIdOf, parseSealed, SecretBox, SecretBoxError } from './secret-box.cipher';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips, including empty and non-ASCII text', () => {
    for (const plaintext of ['0123456789abcdef0123456789abcdef', '', 'ünïcødé ✓']) {
      expect(box.open(box.seal(plaintext))).toBe(plaintext);
    }
  });

  it('seals as v2 naming its key id, with a fresh IV per seal', () => {
    const a = box.seal('same');
    const b = box.seal('same');
    expect(a).toMatch(/^v2\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    expect(a.split('.')[1]).toBe(box.keyId);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(a).not.toBe(b);
    expect(parseSealed(a)).toMatchObject({ format: 'v2', keyId: box.keyId });
  });

  it('key ids are derived from the key: stable, distinct, and not the key', () => {
    expect(keyIdOf(key)).toBe(box.keyId);
    expect(new SecretBox(Buffer.from(key)).keyId).toBe(box.keyId);
    expect(new SecretBox(randomBytes(32)).keyId).not.toBe(box.keyId);
    expect(key.toString('base64url')).not.toContain(box.keyId);
    expect(keyIdOf(LEGACY.key)).toMatch(/^[A-Za-z0-9_-]{11}$/);
  });

  it('opens values sealed in the format before key ids (v1) under the key that sealed them', () => {
    const legacy = new SecretBox(LEGACY.key);
    for (const { sealed, context, plaintext } of LEGACY.values) {
      expect(parseSealed(sealed)).toMatchObject({ format: 'v1', keyId: null });
      expect(legacy.open(sealed, context)).toBe(plaintext);
      expect(() => legacy.open(sealed, `${context}x`)).toThrow(SecretBoxError);
      expect(() => box.open(sealed, context)).toThrow(SecretBoxError);
    }
  });

  it('detects tampering in every part, the key id included', () => {
    const sealed = box.seal('secret token');
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0] ^= 0x01;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expect(() => box.open(tampered.join('.'))).toThrow(SecretBoxError);
    }
    const otherId = [...parts];
    otherId[1] = new SecretBox(randomBytes(32)).keyId;
    expect(() => box.open(otherId.join('.'))).toThrow(SecretBoxError);
  });

  it('a v2 body does not open relabelled as v1, nor a v1 body as v2', () => {
    const [, , iv, tag, ciphertext] = box.seal('secret').split('.');
    expect(() => box.open(['v1', iv, tag, ciphertext].join('.'))).toThrow(SecretBoxError);
    const legacy = new SecretBox(LEGACY.key);
    const [, liv, ltag, lct] = LEGACY.values[0]!.sealed.split('.');
    expect(() => legacy.open(['v2', legacy.keyId, liv, ltag, lct].join('.'), LEGACY.values[0]!.context)).toThrow(SecretBoxError);
  });

  it('rejects malformed values', () => {
    const id = box.keyId;
    for (const bad of ['', 'v1', 'v2.a.b.c', 'v1.a.b', 'v1.!!.b.c', `v2.${id}.a.b`, `v2.short.${box.seal('x').split('.').slice(2).join('.')}`, box.seal('x').replace(/^v2/, 'v3')]) {
      expect(() => box.open(bad)).toThrow(SecretBoxError);
      expect(parseSealed(bad)).toBeNull();
    }
    expect(parseSealed(42)).toBeNull();
  });

  it('fails under another key', () => {
    expect(() => new SecretBox(randomBytes(32)).open(box.seal('secret'))).toThrow(SecretBoxError);
  });

  it('binds the optional context', () => {
    const sealed = box.seal('secret', 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
    expect(box.open(sealed, 'ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('secret');
    expect(() => box.open(sealed, 'ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).toThrow(SecretBoxError);
    expect(() => box.open(sealed)).toThrow(SecretBoxError);
  });

  it('requires a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow(SecretBoxError);
  });

  it('does not share the caller key buffer', () => {
    const mutable = Buffer.from(key);
    const own = new SecretBox(mutable);
    const sealed = own.seal('secret');
    mutable.fill(0);
    expect(own.open(sealed)).toBe('secret');
  });
});
