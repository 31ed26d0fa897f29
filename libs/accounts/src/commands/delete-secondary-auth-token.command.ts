import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { deleteSecondaryAuthToken } from '../domain';

export class DeleteSecondaryAuthTokenCommand extends Command<void> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(DeleteSecondaryAuthTokenCommand)
export class DeleteSecondaryAuthTokenHandler implements ICommandHandler<DeleteSecondaryAuthTokenCommand, void> {
  constructor(private readonly repository: AccountRepository) {}

  async execute({ accountSid, context }: DeleteSecondaryAuthTokenCommand): Promise<void> {
    await this.repository.execute(onAccount(accountSid, context, deleteSecondaryAuthToken));
  }
}
