import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { deleteApiKey } from '../domain';

/** Takes effect in every process with its commit: authentication reads the key on the primary each time. */
export class DeleteApiKeyCommand extends Command<void> {
  constructor(
    readonly accountSid: string,
    readonly keySid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(DeleteApiKeyCommand)
export class DeleteApiKeyHandler implements ICommandHandler<DeleteApiKeyCommand, void> {
  constructor(private readonly repository: AccountRepository) {}

  async execute({ accountSid, keySid, context }: DeleteApiKeyCommand): Promise<void> {
    await this.repository.execute(onAccount(accountSid, context, (state) => deleteApiKey({ keySid }, state)));
  }
}
