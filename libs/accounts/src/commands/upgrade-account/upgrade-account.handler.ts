import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { upgradeAccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { UpgradeAccountCommand } from './upgrade-account.command';

@CommandHandler(UpgradeAccountCommand)
export class UpgradeAccountHandler implements ICommandHandler<UpgradeAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ sid, context }: UpgradeAccountCommand): Promise<AccountRecord> {
    return this.reader.recordOf((await this.repository.execute(onAccount(sid, context, upgradeAccount)))!);
  }
}
