import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Keyring } from '@accountable/secrets';
import { promoteAuthToken } from '../../domain';
import { AccountRepository } from '../../application/account.repository';
import type { IssuedAuthToken } from '../create-secondary-auth-token/create-secondary-auth-token.command';
import { PromoteAuthTokenCommand } from './promote-auth-token.command';

@CommandHandler(PromoteAuthTokenCommand)
export class PromoteAuthTokenHandler implements ICommandHandler<PromoteAuthTokenCommand, IssuedAuthToken> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keyring: Keyring,
  ) {}

  async execute({ accountSid, context }: PromoteAuthTokenCommand): Promise<IssuedAuthToken> {
    return this.repository.execute({
      reads: [accountSid],
      context,
      decide: (accounts) => {
        const events = promoteAuthToken(accounts.get(accountSid));
        // The state as the commit checks it: the token promoted is the one this answer shows.
        return { changes: [{ sid: accountSid, events }], result: (after) => ({ accountSid, authToken: this.keyring.open(after.get(accountSid)!.authToken, accountSid), at: after.at }) };
      },
    });
  }
}
