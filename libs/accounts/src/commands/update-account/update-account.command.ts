import { Command } from '@nestjs/cqrs';
import type { AccountRecord } from '../../read-models/account/account.reader';
import type { CommandContext } from '../../application/command-context';
import type { IdempotencyKey } from '../../application/idempotency.store';
import type { AccountsReadAhead } from '../../application/account.repository';

/** One POST to an account: rename, change status, or both, atomically. */
export class UpdateAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly targetSid: string,
    readonly changes: { friendlyName?: string; status?: string },
    readonly context: CommandContext & { actorSid: string },
    /** A retry under the same key gets the first answer back, even if the account changed since. */
    readonly idempotency?: IdempotencyKey,
    /** The target and its owner, read with the caller's credentials: the command's first attempt reads nothing more. */
    readonly readAhead?: AccountsReadAhead,
  ) {
    super();
  }
}
