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
    return this.repository.execute({
      reads: [accountSid],
      context,
      decide: (accounts) => ({
        changes: [{ sid: accountSid, events: createSecondaryAuthToken({ authToken: sealed }, accounts.get(accountSid)) }],
        result: (after) => ({ accountSid, authToken, at: after.at }),
      }),
    });
  }
}
