import type pg from 'pg';

/**
 * Samples what the server's busy sessions are doing (pg_stat_activity.wait_event) every
 * `intervalMs` during a load phase: where a phase's time goes on the PostgreSQL side, e.g.
 * `Lock:object` (a heavyweight lock such as the one NOTIFY takes at commit), `LWLock:WALWrite`
 * / `IO:WALSync` (waiting for the commit's WAL flush), `CPU` (running).
 */
export class WaitSampler {
  private readonly counts = new Map<string, number>();
  private samples = 0;
  private timer?: NodeJS.Timeout;
  private inFlight = false;

  constructor(
    private readonly pool: pg.Pool,
    /** Sessions whose application_name starts with one of these. */
    private readonly applications: string[],
    private readonly intervalMs = 50,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  /** Share of sampled busy sessions per wait event, largest first. */
  stop(): Record<string, number> {
    clearInterval(this.timer);
    const total = [...this.counts.values()].reduce((a, b) => a + b, 0) || 1;
    return Object.fromEntries(
      [...this.counts]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([k, n]) => [k, Math.round((n / total) * 1000) / 1000]),
    );
  }

  get sampleCount(): number {
    return this.samples;
  }

  private async sample(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      const { rows } = await this.pool.query<{ wait: string; n: string }>(
        `SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait, count(*) AS n
           FROM pg_stat_activity
          WHERE state = 'active' AND pid <> pg_backend_pid() AND application_name LIKE ANY ($1)
          GROUP BY 1`,
        [this.applications.map((a) => `${a}%`)],
      );
      this.samples++;
      for (const row of rows) this.counts.set(row.wait, (this.counts.get(row.wait) ?? 0) + Number(row.n));
    } catch {
      // a missed sample changes nothing
    } finally {
      this.inFlight = false;
    }
  }
}
