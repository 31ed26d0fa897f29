import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, isAlive } from '../../../libs/database/src/embedded-postgres';

export { freePort };

/**
 * The embedded PostgreSQL of a service's DATA_DIR, as a crash sees it: the postmaster's pid from
 * DATA_DIR/pg/postmaster.pid and its children from /proc. PostgreSQL puts each child in its own
 * session, so killing the postmaster's process group would leave them running: a crash kills
 * each one.
 */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 && isAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** SIGKILL to the postmaster and every process it forked; returns how many were killed. */
export function killPostgres(dataDir: string): number[] {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return [];
  const victims = [pid, ...childrenOf(pid)];
  for (const victim of victims) {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  return victims;
}

export async function waitGone(pids: number[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) throw new Error(`processes still alive after SIGKILL: ${pids.filter(isAlive).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

