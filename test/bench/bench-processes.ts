import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** The repository root: the bench runs from its compiled copy in dist-bench/. */
export const ROOT = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'tsconfig.bench.json'))) return dir;
  }
  throw new Error('cannot find the repository root from ' + __dirname);
})();
export const API_MAIN = path.join(ROOT, 'dist/apps/api/src/main.js');
export const CLI_MAIN = path.join(ROOT, 'dist/apps/cli/src/main.js');
export const BASELINE_MAIN = path.join(__dirname, 'baseline-server.js');

export interface RunningProcess {
  child: ChildProcess;
  pid: number;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(): Promise<number | null>;
}

/** A Node program in its own process (the service, the bare baseline), output captured. */
export function startProcess(main: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): RunningProcess {
  const child = spawn(process.execPath, [...nodeArgs, main], { env: { ...process.env, ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    // Only the beginning matters (the address line, a start-up failure); keep memory bounded.
    if (output.length < 200_000) output += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    pid: child.pid!,
    output: () => output,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}; output:\n${output}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((code) => {
          if (listeners.has(check)) {
            cleanup();
            reject(new Error(`${path.basename(main)} exited (${code}) before ${pattern}; output:\n${output}`));
          }
        });
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size of the command, in MiB (VmHWM, or /usr/bin/time's maximum RSS). */
  peakRssMb: number | null;
  seconds: number;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs the built CLI. With `measure`, its peak RSS is taken from GNU time (`-v`: "Maximum
 * resident set size") when installed, else by polling /proc/<pid>/status's VmHWM.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { measure?: boolean; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<CommandResult> {
  const useTime = options.measure === true && existsSync(GNU_TIME);
  const node = [process.execPath, ...(options.nodeArgs ?? []), CLI_MAIN, ...args];
  const [command, argv] = useTime ? [GNU_TIME, ['-v', ...node]] : [node[0], node.slice(1)];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, argv, { env: { ...process.env, ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polledKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 1_000_000) stderr = stderr.slice(-200_000);
    });
    const poll =
      options.measure && !useTime
        ? setInterval(() => {
            void readFile(`/proc/${child.pid}/status`, 'utf8').then(
              (status) => {
                const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
                if (kb > polledKb) polledKb = kb;
              },
              () => undefined,
            );
          }, 50)
        : undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30 * 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      let peakKb: number | null = polledKb || null;
      if (useTime) {
        const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        peakKb = match ? Number(match[1]) : null;
      }
      resolve({ code, stdout, stderr, peakRssMb: peakKb === null ? null : peakKb / 1024, seconds: (Date.now() - started) / 1000 });
    });
  });
}
