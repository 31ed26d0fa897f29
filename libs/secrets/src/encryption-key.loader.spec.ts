import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENCRYPTION_KEY_FILE, loadKeys, loadOrCreateKey } from './encryption-key.loader';

// Runs the loader in a separate Node process, transpiled on the fly, all starting at `startAt`.
const CHILD = `
const ts = require('typescript');
const fs = require('node:fs');
const Module = require('node:module');
const [file, dataDir, startAt] = process.argv.slice(1);
const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
}).outputText;
const mod = new Module(file);
mod.filename = file;
mod.paths = Module._nodeModulePaths(process.cwd());
mod._compile(js, file);
setTimeout(() => {
  mod.exports.loadOrCreateKey({ dataDir }).then((key) => process.stdout.write(key.toString('hex')));
}, Math.max(0, Number(startAt) - Date.now()));
`;

describe('loadOrCreateKey', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-key-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses the configured key and writes nothing', async () => {
    const hex = 'ab'.repeat(32);
    expect((await loadOrCreateKey({ keyHex: hex, dataDir })).toString('hex')).toBe(hex);
    expect(await readdir(dataDir)).toEqual([]);
  });

  it.each(['abc', 'zz'.repeat(32), 'ab'.repeat(33)])('rejects a malformed configured key %p, naming ENCRYPTION_KEY', async (keyHex) => {
    await expect(loadOrCreateKey({ keyHex, dataDir })).rejects.toThrow(/ENCRYPTION_KEY/);
  });

  it('creates the key file once, private, and reuses it', async () => {
    const first = await loadOrCreateKey({ dataDir });
    expect(first).toHaveLength(32);
    const file = path.join(dataDir, ENCRYPTION_KEY_FILE);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.toString('hex'));
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadOrCreateKey({ dataDir, keyHex: '' });
    expect(second.equals(first)).toBe(true);
    expect(await readdir(dataDir)).toEqual([ENCRYPTION_KEY_FILE]);
  });

  it('creates a missing data directory', async () => {
    const nested = path.join(dataDir, 'a', 'b');
    const key = await loadOrCreateKey({ dataDir: nested });
    expect((await readFile(path.join(nested, ENCRYPTION_KEY_FILE), 'utf8')).trim()).toBe(key.toString('hex'));
  });

  it('ends with one key when many callers race to create it', async () => {
    const keys = await Promise.all(Array.from({ length: 25 }, () => loadOrCreateKey({ dataDir })));
    const distinct = new Set(keys.map((k) => k.toString('hex')));
    expect(distinct.size).toBe(1);
    expect(await readdir(dataDir)).toEqual([ENCRYPTION_KEY_FILE]);
  });

  it('ends with one key when separate processes race to create it', async () => {
    const run = promisify(execFile);
    const startAt = String(Date.now() + 1_500);
    const source = path.join(__dirname, 'encryption-key.loader.ts');
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () => run(process.execPath, ['-e', CHILD, source, dataDir, startAt], { cwd: process.cwd() })),
    );
    const keys = new Set(outputs.map((o) => o.stdout));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^[0-9a-f]{64}$/);
    expect((await readFile(path.join(dataDir, ENCRYPTION_KEY_FILE), 'utf8')).trim()).toBe([...keys][0]);
    expect(await readdir(dataDir)).toEqual([ENCRYPTION_KEY_FILE]);
  });

  it('refuses a corrupt key file instead of replacing it', async () => {
    const file = path.join(dataDir, ENCRYPTION_KEY_FILE);
    await writeFile(file, 'not a key\n');
    await expect(loadOrCreateKey({ dataDir })).rejects.toThrow(/encryption\.key/);
    expect(await readFile(file, 'utf8')).toBe('not a key\n');
  });

  it('needs a key or a data directory', async () => {
    await expect(loadOrCreateKey({})).rejects.toThrow(/ENCRYPTION_KEY/);
  });
});

describe('loadKeys', () => {
  let dataDir: string;
  const [a, b, c] = ['aa', 'bb', 'cc'].map((x) => x.repeat(32));

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-keys-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('the current key first, then the previous keys in their order, a repeat of any dropped', async () => {
    const keys = await loadKeys({ keyHex: a, previousKeysHex: ` ${b} ,${c.toUpperCase()},${a},${b}`, dataDir });
    expect(keys.map((k) => k.toString('hex'))).toEqual([a, b, c]);
  });

  it('previous keys beside the generated key file', async () => {
    const keys = await loadKeys({ previousKeysHex: b, dataDir });
    expect(keys).toHaveLength(2);
    expect(keys[0]!.toString('hex')).toBe((await readFile(path.join(dataDir, ENCRYPTION_KEY_FILE), 'utf8')).trim());
    expect(keys[1]!.toString('hex')).toBe(b);
  });

  it('only the current key when there are no previous ones', async () => {
    expect((await loadKeys({ keyHex: a, previousKeysHex: '', dataDir })).map((k) => k.toString('hex'))).toEqual([a]);
  });

  it('refuses a malformed previous key, naming ENCRYPTION_PREVIOUS_KEYS and not the value', async () => {
    const error = await loadKeys({ keyHex: a, previousKeysHex: `${b},${'d'.repeat(63)}`, dataDir }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/ENCRYPTION_PREVIOUS_KEYS: entry 2/);
    expect((error as Error).message).not.toContain('ddd');
  });
});
