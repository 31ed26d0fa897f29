import { EventStreamsRuleError } from './event-streams.errors';

/** The reason of the rule `run` breaks; fails the test when it breaks none (or throws anything else). */
export function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof EventStreamsRuleError) return error.reason;
    throw error;
  }
  throw new Error('no rule was broken');
}
