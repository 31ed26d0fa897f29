/**
 * How long a sink's failing batch is retried, and how far apart. Twilio retries for up to four
 * hours with exponential backoff and jitter (EVENT-STREAMS.md §6); so do we, then the sink
 * becomes `failed` (its checkpoint kept: a new Test/Validate resumes from there).
 */
export interface RetryPolicy {
  /** First retry's ceiling; each next one doubles it. */
  baseMs: number;
  /** The ceiling stops doubling here. */
  maxMs: number;
  /** From a batch's first failure until the sink is given up as `failed`. */
  windowMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 1000, maxMs: 60_000, windowMs: 4 * 60 * 60 * 1000 };

/**
 * "Full jitter": a random wait up to the doubling ceiling, so that the sinks a receiver's outage
 * failed together do not all come back at the same instant.
 */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(random() * ceiling);
}
