import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountReader, type AccountRecord } from '../read-models/account/account.reader';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { MAIN_ACCOUNT_OPERATIONS, type MainAccountOperation } from '../domain';

/**
 * Operator (CLI): one of the domain's decisions on a main account, by name — upgrade, suspend,
 * reactivate, close. The owner cascade then carries it to the subaccounts. One command for all of
 * them: they differ only in the decision, so a new one is a row in MAIN_ACCOUNT_OPERATIONS.
 */
export class MainAccountOperationCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly operation: MainAccountOperation,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(MainAccountOperationCommand)
export class MainAccountOperationHandler implements ICommandHandler<MainAccountOperationCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ sid, operation, context }: MainAccountOperationCommand): Promise<AccountRecord> {
    return this.reader.recordOf((await this.repository.execute(onAccount(sid, context, MAIN_ACCOUNT_OPERATIONS[operation])))!);
  }
}
