import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { upgradeAccount } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

/** Operator (CLI). Trial → Full; its subaccounts follow through the owner cascade. */
export class UpgradeAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
