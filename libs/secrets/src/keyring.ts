import { randomBytes } from 'node:crypto';
import { parseSealed, SecretBox, SecretBoxError, type SealedParts } from './secret-box.cipher';

/** Why a sealed value does not open (see Keyring.check); never the value itself. */
export type UnopenableReason =
  | { kind: 'malformed' }
  | { kind: 'unknown-key'; keyId: string }
  | { kind: 'no-key-opens-v1' }
  | { kind: 'failed'; keyId: string };

export function describeUnopenable(reason: UnopenableReason): string {
  switch (reason.kind) {
    case 'malformed':
      return 'malformed (in no sealed format)';
    case 'unknown-key':
      return `sealed with key id ${reason.keyId}, which is not in the keyring`;
    case 'no-key-opens-v1':
      return 'sealed before key ids (v1), and no key in the keyring opens it';
    case 'failed':
      return `not opened by its key, key id ${reason.keyId} (altered, or sealed for another account)`;
  }
}

/**
 * The keys that seal secrets at rest: the newest seals, every one opens what it sealed. Values
 * name their key (SecretBox's `v2` form); a `v1` value, from before key ids, is tried with every
 * key. Losing a key that sealed something makes that secret unreadable for good, so start-up
 * refuses a keyring that cannot open the stored secrets (README, "Encryption keys").
 */
export class Keyring {
  readonly #boxes: readonly SecretBox[];
  readonly #byId: ReadonlyMap<string, SecretBox>;
  // Work for a value no key of ours can open, so that failing costs what opening does.
  readonly #decoy = new SecretBox(randomBytes(32));
  readonly #decoyParts: SealedParts;

  /** `keys`: newest (the one that seals) first. */
  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new SecretBoxError('a keyring needs at least one key');
    const boxes = keys.map((key) => new SecretBox(key));
    const byId = new Map<string, SecretBox>();
    for (const box of boxes) if (!byId.has(box.keyId)) byId.set(box.keyId, box);
    this.#boxes = [...byId.values()];
    this.#byId = byId;
    this.#decoyParts = parseSealed(this.#decoy.seal('0'.repeat(32)))!;
  }

  /** Key ids, newest (the sealing one) first. */
  get keyIds(): string[] {
    return this.#boxes.map((box) => box.keyId);
  }

  get sealingKeyId(): string {
    return this.#boxes[0]!.keyId;
  }

  /** Sealed under the newest key. */
  seal(plaintext: string, context = ''): string {
    return this.#boxes[0]!.seal(plaintext, context);
  }

  /** Throws SecretBoxError when the value does not open (see check for why). */
  open(sealed: string, context = ''): string {
    const result = this.#open(sealed, context);
    if (typeof result !== 'string') throw new SecretBoxError(`cannot open a sealed value: it is ${describeUnopenable(result)}`);
    return result;
  }

  /**
   * The plaintext, or null. The work does not depend on why it failed: a value under a key id we
   * do not hold, or a malformed one, costs one decryption like any `v2` value; a `v1` value is
   * tried with every key, without stopping at the first that opens.
   */
  tryOpen(sealed: string, context = ''): string | null {
    const result = this.#open(sealed, context);
    return typeof result === 'string' ? result : null;
  }

  /** Null when the value opens; else why not. */
  check(sealed: string, context = ''): UnopenableReason | null {
    const result = this.#open(sealed, context);
    return typeof result === 'string' ? null : result;
  }

  /** What a failed look-up (no such account) does instead of opening a stored token: the same work. */
  openNothing(): void {
    this.#decoy.openParts(this.#decoyParts, '');
  }

  #open(sealed: string, context: string): string | UnopenableReason {
    const parts = parseSealed(sealed);
    if (!parts) {
      this.openNothing();
      return { kind: 'malformed' };
    }
    if (parts.format === 'v2') {
      const box = this.#byId.get(parts.keyId);
      if (!box) {
        this.openNothing();
        return { kind: 'unknown-key', keyId: parts.keyId };
      }
      return box.openParts(parts, context) ?? { kind: 'failed', keyId: parts.keyId };
    }
    let opened: string | null = null;
    for (const box of this.#boxes) {
      const attempt = box.openParts(parts, context);
      if (opened === null) opened = attempt;
    }
    return opened ?? { kind: 'no-key-opens-v1' };
  }
}
