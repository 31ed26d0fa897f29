import { loadOrCreateKeyFile } from '@accountable/secrets';

export const SIGNING_KEY_FILE = 'ledger-signing.key';

/**
 * The ledger's Ed25519 private key (its 32-byte seed): `LEDGER_SIGNING_KEY` if set, else
 * `<dataDir>/ledger-signing.key`, created once (0600) like the encryption key. Never in the
 * database: whoever can rewrite the database must not be able to sign for it. A malformed file
 * is an error, never a reason to make a new key (heads signed by another key fail `ledger verify`).
 */
export function loadOrCreateSigningKey(options: { keyHex?: string; dataDir?: string }): Promise<Buffer> {
  return loadOrCreateKeyFile(options, {
    variable: 'LEDGER_SIGNING_KEY',
    fileName: SIGNING_KEY_FILE,
    name: 'ledger signing key',
    kind: 'Ed25519 key',
    meaning: 'an Ed25519 private key',
  });
}
