import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { API_MAIN, ROOT, runCli, startService, tail } from '../support/processes';

const run = promisify(execFile);

/** `'…'` for sh -c, whatever the text holds. */
const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
/** What a person sees: no colour codes, Unix line ends. */
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r\n/g, '\n');

interface TerminalProcess {
  child: ChildProcess;
  /** Everything written to the terminal so far (stdout and stderr share it), as seen. */
  screen(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Types Ctrl-C, as a person stops it; resolves with script's exit code (the command's, with -e). */
  interrupt(): Promise<number | null>;
}

/**
 * `command` on a pseudo-terminal, through util-linux's `script`: stdout and stderr are a TTY,
 * as in a person's terminal. Typed keys go in through script's stdin.
 */
function startUnderTerminal(command: string, env: Record<string, string | undefined>): TerminalProcess {
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    screen: () => plain(output),
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = plain(output).match(pattern);
        if (match) return match;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} on the terminal; it shows:\n${tail(plain(output))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    interrupt() {
      child.stdin!.write('\x03');
      return exited;
    },
  };
}

/** The service's env: an embedded PostgreSQL in `dataDir`, any free port, and no LOG_FORMAT. */
const serviceEnv = (dataDir: string) => ({ DATA_DIR: dataDir, DATABASE_URL: '', READ_DATABASE_URL: '', ENCRYPTION_KEY: '', PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: '', LOG_LEVEL: 'info' });

async function authenticates(url: string, sid: string, token: string): Promise<boolean> {
  const response = await fetch(`${url}/2010-04-01/Accounts/${sid}.json`, { headers: { authorization: `Basic ${Buffer.from(`${sid}:${token}`).toString('base64')}` } });
  await response.arrayBuffer();
  return response.status === 200;
}

describe('the first minute: npm start in a terminal, piped, and the CLI when something is wrong', () => {
  const dirs: string[] = [];
  const running: { stop(): Promise<unknown> }[] = [];
  const newDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'accountable-first-minute-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(() => {
    // util-linux's `script` gives the service a pseudo-terminal (Debian: bsdutils, always installed).
    expect(spawnSync('script', ['--version']).status).toBe(0);
  });
  afterAll(async () => {
    for (const r of running) await r.stop().catch(() => undefined);
    for (const dir of dirs) {
      await runCli(['migrate'], { DATA_DIR: dir, DATABASE_URL: '', ENCRYPTION_KEY: '' }); // stops a server a failed test left running
      await rm(dir, { recursive: true, force: true });
    }
  });

  let dataDir: string;
  let firstToken: string;

  it('in a terminal, first run: short human lines, then one block with every address, the credentials, a curl and a twilio-node snippet that work', async () => {
    dataDir = await newDir();
    const terminal = startUnderTerminal(`exec ${shellQuote(process.execPath)} ${shellQuote(API_MAIN)}`, serviceEnv(dataDir));
    running.push({ stop: () => (terminal.child.exitCode === null ? terminal.interrupt() : Promise.resolve()) });
    const [, url] = await terminal.waitFor(/Accountable is ready on (http:\/\/127\.0\.0\.1:\d+)\n/);
    const [block] = await terminal.waitFor(/\n {2}Accountable is ready on [\s\S]*Ctrl-C stops it\.\n/);
    const [, sid] = await terminal.waitFor(/account sid {2}(AC[0-9a-f]{32})\n/);
    const [, token] = await terminal.waitFor(/auth token {3}([0-9a-f]{32})\n/);
    firstToken = token;

    for (const expected of [
      `API      ${url}/2010-04-01/Accounts.json`,
      `docs     ${url}/docs`,
      `console  ${url}/console`,
      `health   ${url}/health/live, ${url}/health/ready`,
      `metrics  ${url}/metrics`,
      `data     ${dataDir} (embedded PostgreSQL)`,
      `curl -u ${sid}:${token} ${url}/2010-04-01/Accounts.json`,
    ]) {
      expect(block).toContain(expected);
    }
    // Each address answers.
    for (const p of ['/docs', '/console', '/health/live', '/health/ready', '/metrics']) expect(`${p} ${(await fetch(`${url}${p}`)).status}`).toBe(`${p} 200`);
    expect(await authenticates(url, sid, token)).toBe(true);

    // The twilio-node snippet, pasted as printed, runs and lists the account.
    const snippet = block.split('\n').filter((line) => /^ {4}(const client|client\.)/.test(line)).map((line) => line.trim());
    expect(snippet).toHaveLength(3);
    const { stdout } = await run(process.execPath, ['-e', snippet.join('\n')], { cwd: ROOT });
    expect(stdout).toContain('My first account');

    // Nest's module and route lines are at debug now; everything fits on one screen.
    const screen = terminal.screen();
    expect(screen).not.toMatch(/dependencies initialized|Mapped \{|\{"level"/);
    expect(screen.trimEnd().split('\n').length).toBeLessThanOrEqual(40);
    // The token is on the terminal once, and in no file.
    expect(screen.split(token).length - 1).toBe(3); // the auth token line, the curl line, the snippet
    await expect(stat(path.join(dataDir, 'first-run-credentials.env'))).rejects.toThrow(/ENOENT/);

    expect(await terminal.interrupt()).toBe(0);
    expect(terminal.screen()).toMatch(/SIGINT received: draining requests and stopping\n.*stopped\n/);
  });

  it('piped, on the same DATA_DIR: every line of stdout is JSON, and it says it reuses the data, with the account count', async () => {
    const service = startService(serviceEnv(dataDir));
    running.push(service);
    let stdout = '';
    service.child.stdout!.on('data', (d) => (stdout += d));
    const [, url] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) /);
    await service.waitFor(/"msg":"reusing the data in [^"]+: 1 account, 1 main"/);
    // A request, so the request line is among them.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    await service.waitFor(/"msg":"GET \/health\/live 200/);
    expect(await service.stop('SIGTERM')).toBe(0);

    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    const records = lines.map((line) => JSON.parse(line));
    expect(records.find((r) => r.msg.startsWith('reusing'))).toMatchObject({ level: 'info', data_dir: dataDir, accounts: 1, main_accounts: 1 });
    expect(records.find((r) => r.msg.startsWith('listening on'))).toMatchObject({ url, docs: `${url}/docs`, console: `${url}/console`, metrics: `${url}/metrics`, data_dir: dataDir });
    // Today's lines, as they were: Nest's at info with their context, the request line's fields.
    expect(records).toContainEqual(expect.objectContaining({ level: 'info', context: 'RouterExplorer', msg: 'Mapped {/metrics, GET} route' }));
    expect(records).toContainEqual(expect.objectContaining({ req: { method: 'GET', path: '/health/live' }, res: { status: 200 }, request_id: expect.stringMatching(/^RQ/) }));
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining(['SIGTERM received: draining requests and stopping', 'stopped']));
    expect(service.output()).not.toContain(firstToken);
  });

  it('piped, first run: the token goes to a file only this user can read, whose path is logged; never to stdout or stderr', async () => {
    const dir = await newDir();
    const service = startService(serviceEnv(dir));
    running.push(service);
    const [, url] = await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) /);
    const [, file] = await service.waitFor(/"credentials_file":"([^"]+)"/);
    expect(file).toBe(path.join(dir, 'first-run-credentials.env'));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const text = await readFile(file, 'utf8');
    const sid = text.match(/^TWILIO_ACCOUNT_SID=(AC[0-9a-f]{32})$/m)![1];
    const token = text.match(/^TWILIO_AUTH_TOKEN=([0-9a-f]{32})$/m)![1];
    expect(text).toMatch(new RegExp(`^ACCOUNTABLE_URL=${url}$`, 'm'));
    expect(await authenticates(url, sid, token)).toBe(true);
    expect(await service.stop('SIGTERM')).toBe(0);
    expect(service.output()).toContain(sid);
    expect(service.output()).not.toContain(token);
    for (const line of service.output().trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();

    // The next start reminds that the file is still there.
    const again = startService(serviceEnv(dir));
    running.push(again);
    await again.waitFor(/"level":"warn".*"msg":"the first run's credentials are still in [^"]+first-run-credentials\.env: delete it/);
    expect(await again.stop('SIGTERM')).toBe(0);
  });

  it('stdout redirected to a file from a terminal (npm start > log): the log is JSON without the token, the terminal (stderr) shows it', async () => {
    const dir = await newDir();
    const log = path.join(dir, '..', `${path.basename(dir)}.log`);
    dirs.push(log);
    const terminal = startUnderTerminal(`exec ${shellQuote(process.execPath)} ${shellQuote(API_MAIN)} > ${shellQuote(log)}`, serviceEnv(dir));
    running.push({ stop: () => (terminal.child.exitCode === null ? terminal.interrupt() : Promise.resolve()) });
    const [, sid] = await terminal.waitFor(/account sid {2}(AC[0-9a-f]{32})\n/);
    const [, token] = await terminal.waitFor(/auth token {3}([0-9a-f]{32})\n/);
    await terminal.waitFor(/curl -u \S+ http:\/\/127\.0\.0\.1:\d+\/2010-04-01\/Accounts\.json\n/);
    expect(await terminal.interrupt()).toBe(0);
    const logged = await readFile(log, 'utf8');
    for (const line of logged.trimEnd().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    expect(logged).toMatch(new RegExp(`"msg":"first run: created the main account ${sid}; its auth token is shown on the terminal \\(stderr\\) only"`));
    expect(logged).not.toContain(token);
    expect(terminal.screen()).not.toContain('{"level"');
    await expect(stat(path.join(dir, 'first-run-credentials.env'))).rejects.toThrow(/ENOENT/);
  });

  describe('CLI errors: one line, what went wrong and what to do, and the documented exit code', () => {
    const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error: '));
    const unknown = 'AC' + '0'.repeat(32);

    it.each([
      ['replay', [unknown]],
      ['suspend', [unknown]],
      ['state', [unknown, '--version', '1']],
    ])('an unknown sid (%s): exit 1, naming the database it looked in', async (command, args) => {
      const result = await runCli([command, ...args], { DATA_DIR: dataDir, DATABASE_URL: '', ENCRYPTION_KEY: '' });
      expect(result.code).toBe(1);
      expect(errorLines(result.stderr)).toEqual([
        `error: no account ${unknown} in the embedded database in ${dataDir}: check the sid (npm run -s cli -- audit lists recent changes), or DATA_DIR if the service keeps its data elsewhere`,
      ]);
      expect(result.stdout).toBe('');
    });

    it.each([
      ['nothing listens there', 'postgres://postgres@127.0.0.1:1/accountable', /^error: cannot reach the database: nothing is listening at 127\.0\.0\.1:1\/accountable \(connection refused\): start PostgreSQL there, or fix DATABASE_URL/],
      ['no such host', 'postgres://postgres@no-such-host.invalid:5432/x', /^error: cannot reach the database: the host of no-such-host\.invalid:5432\/x was not found: fix DATABASE_URL/],
    ])('the database cannot be reached (%s): exit 3, and no password in the message', async (_case, url, message) => {
      const result = await runCli(['audit'], { DATABASE_URL: url.replace('postgres@', 'postgres:hunter2@'), DATA_DIR: await newDir() });
      expect(result.code).toBe(3);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain('hunter2');
    });

    it('a wrong DATA_DIR: a file, a directory of other things, or one with no database yet: exit 2, nothing written there', async () => {
      const dir = await newDir();
      const file = path.join(dir, 'notes.txt');
      await writeFile(file, 'mine');
      const env = (DATA_DIR: string) => ({ DATA_DIR, DATABASE_URL: '', ENCRYPTION_KEY: '' });

      const aFile = await runCli(['audit'], env(file));
      expect([aFile.code, aFile.stderr]).toEqual([2, `error: DATA_DIR=${file} is a file, not a directory: set DATA_DIR to the service's data directory (default .data, beside package.json)\n`]);

      const foreign = await runCli(['create-main', '--friendly-name', 'x'], env(dir));
      expect(foreign.code).toBe(2);
      expect(foreign.stderr).toBe(
        `error: DATA_DIR=${dir} holds other files and no Accountable data (no pg/ in it): set DATA_DIR to the service's data directory (default .data, beside package.json), or to an empty or new directory\n`,
      );

      const fresh = path.join(dir, 'typo');
      const empty = await runCli(['replay', unknown], env(fresh));
      expect(empty.code).toBe(2);
      expect(empty.stderr).toBe(
        `error: DATA_DIR=${fresh} holds no database yet, so there is nothing to replay: set DATA_DIR to the service's data directory, or start the service once (npm start)\n`,
      );
      expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('notes.txt\n');

      // The service refuses the foreign directory the same way, before writing anything.
      const service = startService(serviceEnv(dir));
      expect(await service.exited()).toBe(1);
      expect(service.output()).toMatch(/"level":"fatal".*"msg":"failed to start: DATA_DIR=[^"]+ holds other files and no Accountable data/);
      expect(spawnSync('ls', ['-A', dir], { encoding: 'utf8' }).stdout).toBe('notes.txt\n');
    });

    it('usage mistakes, commander\'s own included: exit 2', async () => {
      const env = { DATA_DIR: dataDir, DATABASE_URL: '', ENCRYPTION_KEY: '' };
      for (const args of [['replay', '--no-such-option', unknown], ['no-such-command'], ['replay'], ['replay', 'not-a-sid']]) {
        const result = await runCli(args, env);
        expect({ args, code: result.code, errors: errorLines(result.stderr).length }).toEqual({ args, code: 2, errors: 1 });
      }
    });
  });
});
