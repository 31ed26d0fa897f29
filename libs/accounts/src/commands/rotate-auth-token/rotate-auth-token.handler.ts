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
    const committed = await this.repository.exclusive(async (load) => {
      const state = await load(accountSid);
      return [{ sid: accountSid, expected: state?.version ?? 'no_stream', events: rotateAuthToken({ authToken: sealed }, state) }];
    }, context);
    return { accountSid, authToken, at: committed[committed.length - 1].recordedAt };
  }
}
