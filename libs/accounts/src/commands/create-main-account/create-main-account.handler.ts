import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Keyring, newAuthToken } from '@accountable/secrets';
import { newAccountSid } from '@accountable/twilio';
import { createMainAccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository } from '../../application/account.repository';
import { CreateMainAccountCommand } from './create-main-account.command';

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
