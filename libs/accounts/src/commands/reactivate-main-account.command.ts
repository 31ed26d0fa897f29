import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { reactivateMainAccount } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

/** Operator (CLI). Reactivates a main account; the owner cascade then restores exactly the subaccounts it suspended. */
export class ReactivateMainAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
