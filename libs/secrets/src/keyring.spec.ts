import { randomBytes } from 'node:crypto';
import { Keyring } from './keyring';
import { LEGACY_SEALS } from './legacy-seals.fixtures';
import { SecretBox, SecretBoxError } from './secret-box.cipher';

describe('Keyring', () => {
  const [oldKey, newKey, otherKey] = [randomBytes(32), randomBytes(32), randomBytes(32)];
  const old = new SecretBox(oldKey);
  const current = new SecretBox(newKey);
  const SID = `AC${'b'.repeat(32)}`;

  it('seals with the newest key; every key opens what it sealed', () => {
    const keyring = new Keyring([newKey, oldKey]);
    expect(keyring.keyIds).toEqual([current.keyId, old.keyId]);
    expect(keyring.sealingKeyId).toBe(current.keyId);
    const sealed = keyring.seal('token', SID);
    expect(sealed.split('.')[1]).toBe(current.keyId);
    expect(current.open(sealed, SID)).toBe('token');
    expect(keyring.open(old.seal('old token', SID), SID)).toBe('old token');
    expect(keyring.open(sealed, SID)).toBe('token');
  });

  it('opens values sealed before key ids (v1) with whichever of its keys sealed them', () => {
    for (const keys of [[LEGACY_SEALS.key], [newKey, LEGACY_SEALS.key], [newKey, LEGACY_SEALS.key, oldKey]]) {
      const keyring = new Keyring(keys);
      for (const { sealed, context, plaintext } of LEGACY_SEALS.values) {
        expect(keyring.open(sealed, context)).toBe(plaintext);
        expect(keyring.check(sealed, context)).toBeNull();
      }
    }
  });

  it('without the key that sealed a value: tryOpen is null, open throws, check says why (never the value)', () => {
    const keyring = new Keyring([newKey]);
    const sealedOld = old.seal('secret', SID);
    expect(keyring.tryOpen(sealedOld, SID)).toBeNull();
    expect(() => keyring.open(sealedOld, SID)).toThrow(SecretBoxError);
    expect(keyring.check(sealedOld, SID)).toEqual({ kind: 'unknown-key', keyId: old.keyId });
    expect(keyring.check(LEGACY_SEALS.values[0].sealed, LEGACY_SEALS.values[0].context)).toEqual({ kind: 'no-key-opens-v1' });
    expect(keyring.check('sealed-elsewhere', SID)).toEqual({ kind: 'malformed' });
    // Its own key id, but another account's value: altered, not a missing key.
    expect(keyring.check(keyring.seal('secret', SID), `AC${'c'.repeat(32)}`)).toEqual({ kind: 'failed', keyId: current.keyId });
    expect(keyring.tryOpen(keyring.seal('secret', SID), SID)).toBe('secret');
  });

  it('a key id that only looks like ours does not open: the id is authenticated with the value', () => {
    const keyring = new Keyring([newKey, oldKey]);
    const parts = new SecretBox(otherKey).seal('secret', SID).split('.');
    parts[1] = current.keyId;
    expect(keyring.tryOpen(parts.join('.'), SID)).toBeNull();
  });

  it('drops a repeated key, and needs at least one', () => {
    expect(new Keyring([newKey, Buffer.from(newKey), oldKey]).keyIds).toEqual([current.keyId, old.keyId]);
    expect(() => new Keyring([])).toThrow(SecretBoxError);
  });

  it('openNothing does a decryption and throws nothing', () => {
    expect(() => new Keyring([newKey]).openNothing()).not.toThrow();
  });
});
