import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box.cipher';

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it('round-trips, including empty and non-ASCII text', () => {
    for (const plaintext of ['0123456789abcdef0123456789abcdef', '', 'ünïcødé ✓']) {
      expect(box.open(box.seal(plaintext))).toBe(plaintext);
    }
  });

  it('uses the versioned compact format with a fresh IV per seal', () => {
    const a = box.seal('same');
    const b = box.seal('same');
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(a).not.toBe(b);
  });

  it('detects tampering in every part', () => {
    const sealed = box.seal('secret token');
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const bytes = Buffer.from(parts[index]!, 'base64url');
      bytes[0] ^= 0x01;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expect(() => box.open(tampered.join('.'))).toThrow(SecretBoxError);
    }
  });

  it('rejects malformed values', () => {
    for (const bad of ['', 'v1', 'v2.a.b.c', 'v1.a.b', 'v1.!!.b.c', box.seal('x').replace(/^v1/, 'v0')]) {
      expect(() => box.open(bad)).toThrow(SecretBoxError);
    }
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
