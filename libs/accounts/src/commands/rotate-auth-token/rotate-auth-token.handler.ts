import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Keyring, newAuthToken } from '@accountable/secrets';
import { rotateAuthToken } from '../../domain';
import { AccountRepository } from '../../application/account.repository';
import type { IssuedAuthToken } from '../create-secondary-auth-token/create-secondary-auth-token.command';
import { RotateAuthTokenCommand } from './rotate-auth-token.command';

@CommandHandler(RotateAuthTokenCommand)
export class RotateAuthTokenHandler implements ICommandHandler<RotateAuthTokenCommand, IssuedAuthToken> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keyring: Keyring,
  ) {}

  async execute({ accountSid, context }: RotateAuthTokenCommand): Promise<IssuedAuthToken> {
    const authToken = newAuthToken();
    const sealed = this.keyring.seal(authToken, accountSid);
    return this.repository.execute({
      reads: [accountSid],
      context,
      decide: (accounts) => ({
        changes: [{ sid: accountSid, events: rotateAuthToken({ authToken: sealed }, accounts.get(accountSid)) }],
        result: (after) => ({ accountSid, authToken, at: after.at }),
      }),
    });
  }
}
