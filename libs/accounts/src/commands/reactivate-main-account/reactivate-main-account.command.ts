import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../read-models/account/account.reader';
import type { CommandContext } from '../../application/command-context';

/** Operator (CLI). Reactivates a main account; the owner cascade then restores exactly the subaccounts it suspended. */
export class ReactivateMainAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
