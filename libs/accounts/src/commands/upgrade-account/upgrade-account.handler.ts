import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { upgradeAccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository } from '../../application/account.repository';
import { UpgradeAccountCommand } from './upgrade-account.command';

@CommandHandler(UpgradeAccountCommand)
export class UpgradeAccountHandler implements ICommandHandler<UpgradeAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ sid, context }: UpgradeAccountCommand): Promise<AccountRecord> {
    await this.repository.decideOn(sid, upgradeAccount, context);
    return (await this.reader.find(sid, true))!;
  }
}
