import { performance } from 'node:perf_hooks';

export interface LoopResult {
  operations: number;
  errors: number;
  firstError?: string;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

/**
 * `concurrency` workers, each running `operation` back to back until `seconds` have passed or
 * `maxOperations` have started (whichever first): a closed loop, so throughput is what the
 * system under test sustains, not what we offered it.
 */
export async function closedLoop(
  options: { concurrency: number; seconds: number; maxOperations?: number },
  operation: (worker: number, index: number) => Promise<void>,
): Promise<LoopResult> {
  const latencies: number[] = [];
  const max = options.maxOperations ?? Number.MAX_SAFE_INTEGER;
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const begin = performance.now();
  const deadline = begin + options.seconds * 1000;
  const worker = async (w: number) => {
    while (performance.now() < deadline && started < max) {
      const index = started++;
      const t = performance.now();
      try {
        await operation(w, index);
        latencies.push(performance.now() - t);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  const seconds = (performance.now() - begin) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    operations: latencies.length,
    errors,
    firstError,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
