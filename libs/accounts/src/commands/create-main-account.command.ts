import { Keyring, newAuthToken } from '@accountable/secrets';
import { newAccountSid } from '@accountable/twilio';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { type AccountType, createMainAccount } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

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

@CommandHandler(CreateMainAccountCommand)
export class CreateMainAccountHandler implements ICommandHandler<CreateMainAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
    private readonly keyring: Keyring,
  ) {}

  async execute({ friendlyName, type, context }: CreateMainAccountCommand): Promise<AccountRecord> {
    const sid = newAccountSid();
    const authToken = this.keyring.seal(newAuthToken(), sid);
    return this.repository.execute({
      reads: [sid],
      context,
      decide: (accounts) => ({
        changes: [{ sid, events: createMainAccount({ sid, friendlyName, type, authToken }, accounts.get(sid)) }],
        result: (after) => this.reader.recordOf(after.get(sid)!),
      }),
    });
  }
}
