import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { deleteApiKey } from '../../domain';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { DeleteApiKeyCommand } from './delete-api-key.command';

@CommandHandler(DeleteApiKeyCommand)
export class DeleteApiKeyHandler implements ICommandHandler<DeleteApiKeyCommand, void> {
  constructor(private readonly repository: AccountRepository) {}

  async execute({ accountSid, keySid, context }: DeleteApiKeyCommand): Promise<void> {
    await this.repository.execute(onAccount(accountSid, context, (state) => deleteApiKey({ keySid }, state)));
  }
}
