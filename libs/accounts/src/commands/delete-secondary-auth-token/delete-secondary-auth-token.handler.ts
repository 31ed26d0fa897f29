import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { deleteSecondaryAuthToken } from '../../domain';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { DeleteSecondaryAuthTokenCommand } from './delete-secondary-auth-token.command';

@CommandHandler(DeleteSecondaryAuthTokenCommand)
export class DeleteSecondaryAuthTokenHandler implements ICommandHandler<DeleteSecondaryAuthTokenCommand, void> {
  constructor(private readonly repository: AccountRepository) {}

  async execute({ accountSid, context }: DeleteSecondaryAuthTokenCommand): Promise<void> {
    await this.repository.execute(onAccount(accountSid, context, deleteSecondaryAuthToken));
  }
}
