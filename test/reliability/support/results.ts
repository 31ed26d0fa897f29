import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROFILE } from './profile';

/** What one test tried and saw; summary-reporter.js joins it with the test's pass/fail. */
export interface ReliabilityResult {
  item: number;
  title: string;
  /** Named figures, in order: `{ rounds: 5, 'requests/round': 100 }`. */
  figures: Record<string, number | string>;
  /** What held, in a few words (printed only when the test passed). */
  held: string;
}

/**
 * Writes the result of the running test for the summary table. Call it in a `finally`, so a
 * failing test still reports how far it got.
 */
export function recordResult(result: ReliabilityResult): void {
  const dir = process.env.RELIABILITY_RESULTS_DIR;
  if (!dir) return;
  const state = expect.getState();
  const record = { ...result, profile: PROFILE, test: state.currentTestName, file: state.testPath, at: new Date().toISOString() };
  const name = `${result.item}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.json`;
  writeFileSync(path.join(dir, name), JSON.stringify(record));
}
