import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Keyring, newAuthToken } from '@accountable/secrets';
import { createSecondaryAuthToken } from '../../domain';
import { AccountRepository } from '../../application/account.repository';
import { CreateSecondaryAuthTokenCommand, type IssuedAuthToken } from './create-secondary-auth-token.command';

@CommandHandler(CreateSecondaryAuthTokenCommand)
export class CreateSecondaryAuthTokenHandler implements ICommandHandler<CreateSecondaryAuthTokenCommand, IssuedAuthToken> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keyring: Keyring,
  ) {}

  async execute({ accountSid, context }: CreateSecondaryAuthTokenCommand): Promise<IssuedAuthToken> {
    const authToken = newAuthToken();
    const sealed = this.keyring.seal(authToken, accountSid);
    const committed = await this.repository.exclusive(async (load) => {
      const state = await load(accountSid);
      return [{ sid: accountSid, expected: state?.version ?? 'no_stream', events: createSecondaryAuthToken({ authToken: sealed }, state) }];
    }, context);
    return { accountSid, authToken, at: committed[0].recordedAt };
  }
}
