import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../application/account.reader';
import type { CommandContext } from '../../application/command-context';

export class CreateSubaccountCommand extends Command<AccountRecord> {
  constructor(
    readonly callerSid: string,
    /** Absent: the dated default name. */
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}
