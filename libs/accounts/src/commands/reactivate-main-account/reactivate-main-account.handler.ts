import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { reactivateMainAccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { ReactivateMainAccountCommand } from './reactivate-main-account.command';

@CommandHandler(ReactivateMainAccountCommand)
export class ReactivateMainAccountHandler implements ICommandHandler<ReactivateMainAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ sid, context }: ReactivateMainAccountCommand): Promise<AccountRecord> {
    return this.reader.recordOf((await this.repository.execute(onAccount(sid, context, reactivateMainAccount)))!);
  }
}
