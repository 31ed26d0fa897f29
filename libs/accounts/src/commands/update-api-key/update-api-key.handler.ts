import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRuleError, renameApiKey } from '../../domain';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { ApiKeyReader, type ApiKeyRecord } from '../../read-models/account/api-key.reader';
import { UpdateApiKeyCommand } from './update-api-key.command';

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
