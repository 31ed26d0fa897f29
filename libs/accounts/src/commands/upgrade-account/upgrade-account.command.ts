import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../read-models/account/account.reader';
import type { CommandContext } from '../../application/command-context';

/** Operator (CLI). Trial → Full; its subaccounts follow through the owner cascade. */
export class UpgradeAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
