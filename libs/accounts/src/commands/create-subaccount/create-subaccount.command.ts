import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../read-models/account/account.reader';
import type { CommandContext } from '../../application/command-context';
import type { IdempotencyKey } from '../../application/idempotency.store';
import type { AccountsReadAhead } from '../../application/account.repository';

export class CreateSubaccountCommand extends Command<AccountRecord> {
  constructor(
    readonly callerSid: string,
    /** Absent: the dated default name. */
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
    /** A retry under the same key gets the first answer back: the same new sid and token. */
    readonly idempotency?: IdempotencyKey,
    /** The caller's snapshot, read with its credentials: the command's first attempt reads nothing more. */
    readonly readAhead?: AccountsReadAhead,
  ) {
    super();
  }
}
