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
    const events = createMainAccount({ sid, friendlyName, type, authToken: this.keyring.seal(newAuthToken(), sid) }, null);
    await this.repository.commit([{ sid, expected: 'no_stream', events }], context);
    return (await this.reader.find(sid, true))!;
  }
}
