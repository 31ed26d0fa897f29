import { apiKeySecretVerifier, newApiKeySecret } from '@accountable/secrets';
import { newApiKeySid } from '@accountable/twilio';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository, onAccount } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { createApiKey } from '../domain';
import { type ApiKeyRecord, ApiKeyReader } from '../read-models/account/api-key.reader';

/** A standard API key for `accountSid`; the answer carries its secret, which nothing stores. */
export class CreateApiKeyCommand extends Command<ApiKeyRecord & { secret: string }> {
  constructor(
    readonly accountSid: string,
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
