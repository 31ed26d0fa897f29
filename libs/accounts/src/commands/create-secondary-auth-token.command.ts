import { Keyring, newAuthToken } from '@accountable/secrets';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { createSecondaryAuthToken } from '../domain';

export interface IssuedAuthToken {
  accountSid: string;
  /** In clear: shown to the caller this once. */
  authToken: string;
  at: Date;
}

/** The authenticated account's own secondary token (a subaccount rotates its own). */
export class CreateSecondaryAuthTokenCommand extends Command<IssuedAuthToken> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

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
