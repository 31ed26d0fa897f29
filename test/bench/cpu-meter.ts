import { readdirSync, readFileSync } from 'node:fs';

/** CPU used over a window, in cores (1.0 = one core busy the whole time). Linux /proc only. */
export interface CpuShare {
  /** The whole machine: every process, PostgreSQL's included. */
  machine: number;
  /** The process under load (the service or the bare baseline). */
  server: number;
  /** This process: the load generator (autocannon) and the bench's probes. */
  bench: number;
  /** PostgreSQL: the postmaster and all its children (null when the server is not on this machine). */
  database: number | null;
  /** Interrupt handling (loopback TCP is processed in softirq, charged to no process) and time the hypervisor took. */
  interrupts: number;
  steal: number;
  /** Everything else on the machine: other processes. */
  other: number | null;
  cores: number;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function machineTicks(): { busy: number; total: number; interrupts: number; steal: number } | null {
  try {
    // user nice system idle iowait irq softirq steal
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = fields[3] + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total, interrupts: (fields[5] ?? 0) + (fields[6] ?? 0), steal: fields[7] ?? 0 };
  } catch {
    return null;
  }
}

function stat(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function processTicks(pid: number): number | null {
  const fields = stat(pid);
  return fields ? Number(fields[11]) + Number(fields[12]) : null; // utime + stime
}

/** The postmaster a backend belongs to (its parent). */
export function parentPid(pid: number): number | null {
  const fields = stat(pid);
  return fields ? Number(fields[1]) : null;
}

/**
 * CPU of a process and its live children. A child that exits within the window takes its ticks
 * with it; the pools keep their backends, so that loses little.
 */
function treeTicks(root: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const fields = stat(pid);
    if (fields && (pid === root || Number(fields[1]) === root)) ticks.set(pid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

/** Starts measuring; the returned function ends the window and reports it (null without /proc). */
export function measureCpu(serverPid: number, cores: number, postmasterPid: number | null): () => CpuShare | null {
  const database = () => (postmasterPid ? treeTicks(postmasterPid) : null);
  const start = { machine: machineTicks(), server: processTicks(serverPid), bench: process.cpuUsage(), database: database(), at: process.hrtime.bigint() };
  return () => {
    const machine = machineTicks();
    const server = processTicks(serverPid);
    const db = database();
    if (!start.machine || !machine || start.server === null || server === null) return null;
    const seconds = Number(process.hrtime.bigint() - start.at) / 1e9;
    const bench = process.cpuUsage(start.bench);
    const round = (x: number) => Math.round(x * 100) / 100;
    let dbTicks: number | null = null;
    if (db && start.database) {
      dbTicks = 0;
      for (const [pid, t] of db) dbTicks += t - (start.database.get(pid) ?? 0);
    }
    const span = machine.total - start.machine.total;
    const share = {
      machine: ((machine.busy - start.machine.busy) / span) * cores,
      interrupts: ((machine.interrupts - start.machine.interrupts) / span) * cores,
      steal: ((machine.steal - start.machine.steal) / span) * cores,
      server: (server - start.server) / TICKS_PER_SECOND / seconds,
      bench: (bench.user + bench.system) / 1e6 / seconds,
      database: dbTicks === null ? null : dbTicks / TICKS_PER_SECOND / seconds,
    };
    return {
      machine: round(share.machine),
      server: round(share.server),
      bench: round(share.bench),
      database: share.database === null ? null : round(share.database),
      interrupts: round(share.interrupts),
      steal: round(share.steal),
      other:
        share.database === null ? null : round(Math.max(0, share.machine - share.server - share.bench - share.database - share.interrupts - share.steal)),
      cores,
    };
  };
}
