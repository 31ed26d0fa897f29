import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../read-models/account/account.reader';
import type { CommandContext } from '../../application/command-context';
import type { AccountType } from '../../domain';

/** Operator sign-up (CLI, first run): the only way a main account comes to be. */
export class CreateMainAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly friendlyName: string,
    readonly type: AccountType,
    readonly context: CommandContext,
  ) {
    super();
  }
}
