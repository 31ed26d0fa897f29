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
    let promoted = '';
    const committed = await this.repository.exclusive(async (load) => {
      const state = await load(accountSid);
      const events = promoteAuthToken(state);
      // Decided on the locked stream: the secondary it promotes is the one this answer shows.
      promoted = this.keyring.open(state!.secondaryAuthToken!, accountSid);
      return [{ sid: accountSid, expected: state!.version, events }];
    }, context);
    return { accountSid, authToken: promoted, at: committed[0].recordedAt };
  }
}
