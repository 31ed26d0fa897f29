import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { suspendMainAccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { SuspendMainAccountCommand } from './suspend-main-account.command';

@CommandHandler(SuspendMainAccountCommand)
export class SuspendMainAccountHandler implements ICommandHandler<SuspendMainAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ sid, context }: SuspendMainAccountCommand): Promise<AccountRecord> {
    return this.reader.recordOf((await this.repository.execute(onAccount(sid, context, suspendMainAccount)))!);
  }
}
