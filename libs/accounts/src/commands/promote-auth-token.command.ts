import { Keyring } from '@accountable/secrets';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { promoteAuthToken } from '../domain';
import type { IssuedAuthToken } from './create-secondary-auth-token.command';

/**
 * The secondary token becomes the primary. Its commit is the moment the old primary stops
 * authenticating: the read-model row changes in the same transaction, and every process reads
 * that row on the primary for each request.
 */
export class PromoteAuthTokenCommand extends Command<IssuedAuthToken> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
