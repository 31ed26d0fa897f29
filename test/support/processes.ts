import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository root, from here or from the bench's compiled copy in dist-bench/. */
export const ROOT = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'tsconfig.bench.json'))) return dir;
  }
  throw new Error('cannot find the repository root from ' + __dirname);
})();
export const API_MAIN = path.join(ROOT, 'dist/apps/api/src/main.js');
export const CLI_MAIN = path.join(ROOT, 'dist/apps/cli/src/main.js');

type Env = Record<string, string | undefined>;

/** `[...wrapper] node [...nodeArgs] main [...args]`; nothing reads stdin, so a prompt ends instead of waiting. */
function spawnNode(main: string, env: Env, { args = [], nodeArgs = [], wrapper = [] }: { args?: string[]; nodeArgs?: string[]; wrapper?: string[] }) {
  const [command, ...argv] = [...wrapper, process.execPath, ...nodeArgs, main, ...args];
  return spawn(command, argv, { env: { ...process.env, ...env }, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

export const tail = (text: string, chars = 4000): string => (text.length > chars ? `…${text.slice(-chars)}` : text);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  nodeArgs?: string[];
  /** A command the CLI runs under, such as `/usr/bin/time -v`. */
  wrapper?: string[];
  /** SIGKILL once it has run this long. */
  timeoutMs?: number;
}

/** Starts the built CLI; `result` settles once it has exited and closed its output. */
export function startCli(args: string[], env: Env, options: CliOptions = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const child = spawnNode(CLI_MAIN, env, { args, nodeArgs: options.nodeArgs, wrapper: options.wrapper });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      // A long rebuild's progress would grow without bound; its end (the failure, a wrapper's report) is what is read.
      if (stderr.length > 1_000_000) stderr = stderr.slice(-200_000);
    });
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, result };
}

/** Runs the built CLI (npm test builds first) as an operator would. */
export function runCli(args: string[], env: Env, options: CliOptions = {}): Promise<CliResult> {
  return startCli(args, env, options).result;
}

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr as they came. */
  output(): string;
  /** Resolves with the first match in the output so far or to come; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /**
   * Sends the signal (if still running), then SIGKILL if it still runs after `forceAfterMs`;
   * resolves with the exit code (null when ended by a signal).
   */
  stop(signal?: NodeJS.Signals, forceAfterMs?: number): Promise<number | null>;
  /** Resolves with the exit code once the process has ended. */
  exited(): Promise<number | null>;
}

export interface ProgramOptions {
  args?: string[];
  nodeArgs?: string[];
  /** Keeps only about this many characters from the beginning of the output (the address line, a start-up failure). */
  outputLimit?: number;
  /** The default of `stop`'s `forceAfterMs`. */
  forceStopAfterMs?: number;
}

/** A Node program in its own process, its output captured. */
export function startProgram(main: string, env: Env, options: ProgramOptions = {}): ServiceProcess {
  const { outputLimit = Infinity } = options;
  const child = spawnNode(main, env, options);
  const name = path.relative(ROOT, main);
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    if (output.length < outputLimit) output += d.toString();
    for (const l of [...listeners]) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // 'exit' can come before the last output has been read: wait for 'close' too, but not for long,
  // in case a grandchild still holds the pipes.
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      const timer = setTimeout(() => resolve(code), 1_000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(code);
      });
    }),
  );
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
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output so far:\n${tail(output)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        void exited.then((code) => {
          if (listeners.has(check)) {
            cleanup();
            reject(new Error(`${name} exited (${code}) before ${pattern}; output:\n${tail(output)}`));
          }
        });
        check();
      });
    },
    async stop(signal = 'SIGTERM', forceAfterMs = options.forceStopAfterMs) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const force = forceAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), forceAfterMs);
      const code = await exited;
      clearTimeout(force);
      return code;
    },
    exited: () => exited,
  };
}

/**
 * Starts the built service (`node dist/apps/api/src/main.js [args]`, e.g. `--role projector`).
 * Port, host and log level are pinned so that the runner's own environment does not move them.
 */
export function startService(env: Env, args: string[] = []): ServiceProcess {
  return startProgram(API_MAIN, { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env }, { args });
}
