import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { AccountRuleError, renameApiKey } from '../domain';
import { type ApiKeyRecord, ApiKeyReader } from '../read-models/account/api-key.reader';

export class UpdateApiKeyCommand extends Command<ApiKeyRecord> {
  constructor(
    readonly accountSid: string,
    readonly keySid: string,
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateApiKeyCommand)
export class UpdateApiKeyHandler implements ICommandHandler<UpdateApiKeyCommand, ApiKeyRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keys: ApiKeyReader,
  ) {}

  async execute({ accountSid, keySid, friendlyName, context }: UpdateApiKeyCommand): Promise<ApiKeyRecord> {
    await this.repository.execute(onAccount(accountSid, context, (state) => renameApiKey({ keySid, friendlyName }, state)));
    const key = await this.keys.find(accountSid, keySid, true);
    if (!key) throw new AccountRuleError('api_key_not_found', `API key ${keySid} does not exist`);
    return key;
  }
}
