import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { apiKeySecretVerifier, newApiKeySecret } from '@accountable/secrets';
import { newApiKeySid } from '@accountable/twilio';
import { createApiKey } from '../../domain';
import { AccountRepository, onAccount } from '../../application/account.repository';
import { ApiKeyReader, type ApiKeyRecord } from '../../read-models/account/api-key.reader';
import { CreateApiKeyCommand } from './create-api-key.command';

@CommandHandler(CreateApiKeyCommand)
export class CreateApiKeyHandler implements ICommandHandler<CreateApiKeyCommand, ApiKeyRecord & { secret: string }> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keys: ApiKeyReader,
  ) {}

  async execute({ accountSid, friendlyName, context }: CreateApiKeyCommand): Promise<ApiKeyRecord & { secret: string }> {
    const keySid = newApiKeySid();
    const secret = newApiKeySecret();
    const secretVerifier = apiKeySecretVerifier(secret);
    // The commit checks the account's version, so the cap is decided on its latest count.
    await this.repository.execute(onAccount(accountSid, context, (state) => createApiKey({ keySid, friendlyName, secretVerifier }, state)));
    const key = await this.keys.find(accountSid, keySid, true);
    // Deleted between the commit and this read: the key existed; the client gets what it was.
    if (!key) throw new Error(`API key ${keySid} vanished right after its creation`);
    return { ...key, secret };
  }
}
