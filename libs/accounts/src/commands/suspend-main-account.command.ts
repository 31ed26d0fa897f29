import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { suspendMainAccount } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

/** Operator (CLI). Suspends a main account; the owner cascade then suspends its active subaccounts. */
export class SuspendMainAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly sid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
