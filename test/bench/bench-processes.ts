import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startCli, startProgram, type CliResult, type ServiceProcess } from '../support/processes';

export const BASELINE_MAIN = path.join(__dirname, 'baseline-server.js');

/**
 * A Node program in its own process (the service, the bare baseline). Only the beginning of its
 * output is kept, so memory stays bounded over a long run; `stop()` allows 20 s (time to write a
 * CPU profile) before SIGKILL.
 */
export function startProcess(main: string, env: Record<string, string | undefined>, nodeArgs: string[] = []): ServiceProcess {
  return startProgram(main, env, { nodeArgs, outputLimit: 200_000, forceStopAfterMs: 20_000 });
}

export interface CommandResult extends CliResult {
  /** Peak resident set size of the command, in MiB (VmHWM, or /usr/bin/time's maximum RSS). */
  peakRssMb: number | null;
  seconds: number;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs the built CLI. With `measure`, its peak RSS is taken from GNU time (`-v`: "Maximum
 * resident set size") when installed, else by polling /proc/<pid>/status's VmHWM.
 */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { measure?: boolean; timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<CommandResult> {
  const useTime = options.measure === true && existsSync(GNU_TIME);
  const started = Date.now();
  const { child, result } = startCli(args, env, {
    nodeArgs: options.nodeArgs,
    wrapper: useTime ? [GNU_TIME, '-v'] : [],
    timeoutMs: options.timeoutMs ?? 30 * 60_000,
  });
  let polledKb = 0;
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
  const { code, stdout, stderr } = await result.finally(() => clearInterval(poll));
  let peakKb: number | null = polledKb || null;
  if (useTime) {
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    peakKb = match ? Number(match[1]) : null;
  }
  return { code, stdout, stderr, peakRssMb: peakKb === null ? null : peakKb / 1024, seconds: (Date.now() - started) / 1000 };
}
