import { Keyring, newAuthToken } from '@accountable/secrets';
import { newAccountSid } from '@accountable/twilio';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type AccountsReadAhead, AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import type { IdempotencyKey } from '../application/idempotency.store';
import { createSubaccount } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

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

@CommandHandler(CreateSubaccountCommand)
export class CreateSubaccountHandler implements ICommandHandler<CreateSubaccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
    private readonly keyring: Keyring,
  ) {}

  async execute(command: CreateSubaccountCommand): Promise<AccountRecord> {
    const sid = newAccountSid();
    const authToken = this.keyring.seal(newAuthToken(), sid);
    // Decided on the owner's snapshot (its row: the open-subaccount count at its version); the
    // commit checks that version, so the limit holds against concurrent creates.
    return this.repository.execute({
      reads: [command.callerSid],
      context: command.context,
      idempotency: command.idempotency,
      readAhead: command.readAhead,
      decide: (accounts) => {
        const events = createSubaccount({ sid, friendlyName: command.friendlyName, authToken, now: accounts.at }, accounts.get(command.callerSid));
        return {
          changes: [
            { sid, events: events.subaccount },
            { sid: command.callerSid, events: events.owner },
          ],
          result: (after) => this.reader.recordOf(after.get(sid)!),
        };
      },
    });
  }
}
