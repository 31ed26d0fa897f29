import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import baseGlobalTeardown from '../../support/global-teardown';

/** Prints the summary table after jest's own summary, then drops the run's databases. */
export default async function globalTeardown(): Promise<void> {
  const dir = process.env.RELIABILITY_RESULTS_DIR;
  if (dir) {
    // The summary reporter wrote the table by now (reporters finish before the global teardown).
    const summary = await readFile(path.join(dir, 'summary.txt'), 'utf8').catch(() => '');
    if (summary) process.stdout.write(`\n${summary}`);
    await rm(dir, { recursive: true, force: true });
  }
  await baseGlobalTeardown();
}
