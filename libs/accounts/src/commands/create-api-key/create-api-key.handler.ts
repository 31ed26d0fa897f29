import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { apiKeySecretVerifier, newApiKeySecret } from '@accountable/secrets';
import { newApiKeySid } from '@accountable/twilio';
import { createApiKey } from '../../domain';
import { AccountRepository } from '../../application/account.repository';
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
    // The account's lock serialises creations, so the cap is decided on its latest count.
    await this.repository.decideOn(accountSid, (state) => createApiKey({ keySid, friendlyName, secretVerifier }, state), context);
    const key = await this.keys.find(accountSid, keySid, true);
    // Deleted between the commit and this read: the key existed; the client gets what it was.
    if (!key) throw new Error(`API key ${keySid} vanished right after its creation`);
    return { ...key, secret };
  }
}
