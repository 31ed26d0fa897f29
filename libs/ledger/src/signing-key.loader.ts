import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

export const SIGNING_KEY_FILE = 'ledger-signing.key';
const KEY_HEX = /^[0-9a-fA-F]{64}$/;

/**
 * The ledger's Ed25519 private key (its 32-byte seed): `LEDGER_SIGNING_KEY` if set, else
 * `<dataDir>/ledger-signing.key`, created once (0600) like the encryption key. Never in the
 * database: whoever can rewrite the database must not be able to sign for it. A malformed file
 * is an error, never a reason to make a new key (heads signed by another key fail `ledger verify`).
 */
export async function loadOrCreateSigningKey(options: { keyHex?: string; dataDir?: string }): Promise<Buffer> {
  const configured = options.keyHex?.trim();
  if (configured) {
    if (!KEY_HEX.test(configured)) throw new Error('LEDGER_SIGNING_KEY must be exactly 64 hexadecimal characters (an Ed25519 private key)');
    return Buffer.from(configured, 'hex');
  }
  if (!options.dataDir) throw new Error('No ledger signing key: set LEDGER_SIGNING_KEY or give a data directory');
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, SIGNING_KEY_FILE);
  const existing = await readKeyFile(file);
  if (existing) return existing;
  // A complete private temp file hard-linked into place: a concurrent starter either wins the
  // link or reads the winner's file, never a half-written one.
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(`${randomBytes(32).toString('hex')}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const key = await readKeyFile(file);
  if (!key) throw new Error(`${file} disappeared while it was being created`);
  return key;
}

async function readKeyFile(file: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const hex = text.trim();
  if (!KEY_HEX.test(hex)) throw new Error(`${file} is not a 64-hex-character Ed25519 key; restore it from backup or set LEDGER_SIGNING_KEY`);
  return Buffer.from(hex, 'hex');
}
