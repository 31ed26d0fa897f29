import type { CommandContext } from './command-context';
import type { CommittedAccountEvent } from './account.repository';

/** Published on the Nest event bus after a commit; in-process listeners only (read models use the feed). */
export class AccountEventsCommitted {
  constructor(
    readonly events: readonly CommittedAccountEvent[],
    readonly context: CommandContext,
  ) {}
}
