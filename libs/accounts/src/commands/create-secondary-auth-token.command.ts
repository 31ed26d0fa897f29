import { Keyring, newAuthToken } from '@accountable/secrets';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { createSecondaryAuthToken, type AccountEvent, type AccountState } from '../domain';

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

  execute({ accountSid, context }: CreateSecondaryAuthTokenCommand): Promise<IssuedAuthToken> {
    return issueAuthToken(this.repository, this.keyring, accountSid, context, createSecondaryAuthToken);
  }
}

/**
 * A new token for the account, sealed into the events `decide` makes of it (a secondary token;
 * a rotation, which also promotes it), and given back in clear this once.
 */
export function issueAuthToken(
  repository: AccountRepository,
  keyring: Keyring,
  accountSid: string,
  context: CommandContext,
  decide: (token: { authToken: string }, state: AccountState) => readonly AccountEvent[],
): Promise<IssuedAuthToken> {
  const authToken = newAuthToken();
  const sealed = keyring.seal(authToken, accountSid);
  return repository.execute({
    reads: [accountSid],
    context,
    decide: (accounts) => ({
      changes: [{ sid: accountSid, events: decide({ authToken: sealed }, accounts.get(accountSid)) }],
      result: (after) => ({ accountSid, authToken, at: after.at }),
    }),
  });
}
