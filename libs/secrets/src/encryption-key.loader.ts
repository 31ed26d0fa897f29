import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

export const ENCRYPTION_KEY_FILE = 'encryption.key';
const KEY_HEX = /^[0-9a-fA-F]{64}$/;

export interface LoadKeyOptions {
  /** From config (`ENCRYPTION_KEY`): 64 hex characters. Empty counts as not set. */
  keyHex?: string;
  /** Where `encryption.key` lives when no key is configured. */
  dataDir?: string;
}

export interface LoadKeysOptions extends LoadKeyOptions {
  /** From config (`ENCRYPTION_PREVIOUS_KEYS`): older keys, 64 hex characters each, comma-separated. */
  previousKeysHex?: string;
}

/**
 * The keyring's keys, newest first: the current key (loadOrCreateKey), then the previous ones,
 * which only open what they sealed. A previous key equal to the current one is dropped.
 */
export async function loadKeys(options: LoadKeysOptions): Promise<Buffer[]> {
  const current = await loadOrCreateKey(options);
  const previous = (options.previousKeysHex ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((hex, i) => {
      if (!KEY_HEX.test(hex)) throw new Error(`ENCRYPTION_PREVIOUS_KEYS: entry ${i + 1} is not 64 hexadecimal characters (a 32-byte key)`);
      return Buffer.from(hex, 'hex');
    });
  const keys = [current];
  for (const key of previous) if (!keys.some((k) => k.equals(key))) keys.push(key);
  return keys;
}

/**
 * The configured key if there is one, else `<dataDir>/encryption.key`, created on first use.
 * Losing this key makes every stored auth token unreadable.
 */
export function loadOrCreateKey(options: LoadKeyOptions): Promise<Buffer> {
  return loadOrCreateKeyFile(options, { variable: 'ENCRYPTION_KEY', fileName: ENCRYPTION_KEY_FILE, name: 'encryption key', kind: 'key', meaning: 'a 32-byte key' });
}

/** What a generated 32-byte key is called, for loadOrCreateKeyFile's messages. */
export interface KeyFileSpec {
  /** The variable that configures it, e.g. `ENCRYPTION_KEY`. */
  variable: string;
  /** Its file in the data directory when not configured. */
  fileName: string;
  /** In "No <name>: set …". */
  name: string;
  /** In "<file> is not a 64-hex-character <kind>". */
  kind: string;
  /** In "… must be exactly 64 hexadecimal characters (<meaning>)". */
  meaning: string;
}

/**
 * A 32-byte key: the configured one (64 hex characters) if there is one, else `<dataDir>/<fileName>`,
 * created once (0600). Keys guard data that outlives them (sealed tokens, signed heads), so a key
 * is never regenerated over an existing file, and a malformed one is an error rather than a reason
 * to start over.
 */
export async function loadOrCreateKeyFile(options: LoadKeyOptions, spec: KeyFileSpec): Promise<Buffer> {
  const configured = options.keyHex?.trim();
  if (configured) {
    if (!KEY_HEX.test(configured)) throw new Error(`${spec.variable} must be exactly 64 hexadecimal characters (${spec.meaning})`);
    return Buffer.from(configured, 'hex');
  }
  if (!options.dataDir) throw new Error(`No ${spec.name}: set ${spec.variable} or give a data directory for ${spec.fileName}`);
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(options.dataDir, spec.fileName);
  const existing = await readKeyFile(file, spec);
  if (existing) return existing;
  await createKeyFile(file);
  // Whoever won the race, everyone reads the one file that exists now.
  const key = await readKeyFile(file, spec);
  if (!key) throw new Error(`${file} disappeared while it was being created`);
  return key;
}

async function readKeyFile(file: string, spec: KeyFileSpec): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const hex = text.trim();
  if (!KEY_HEX.test(hex)) throw new Error(`${file} is not a 64-hex-character ${spec.kind}; restore it from backup or set ${spec.variable}`);
  return Buffer.from(hex, 'hex');
}

/**
 * Writes a complete key to a private temp file, then hard-links it into place. link() fails with
 * EEXIST if another process got there first, and the final name never points at a half-written
 * file (which `open(…, 'wx')` followed by a write would expose to a concurrent reader).
 */
async function createKeyFile(file: string): Promise<void> {
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
  await syncDirectory(path.dirname(file));
}

// A key lost to a crash right after creation would orphan every token sealed with it.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot open or fsync a directory; the file itself is already synced.
  }
}
