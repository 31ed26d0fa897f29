import { Keyring } from '@accountable/secrets';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import { rotateAuthToken } from '../domain';
import { issueAuthToken, type IssuedAuthToken } from './create-secondary-auth-token.command';

/** The operator's one step for a leaked token (`cli rotate-token`): a new token, promoted at once. */
export class RotateAuthTokenCommand extends Command<IssuedAuthToken> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

@CommandHandler(RotateAuthTokenCommand)
export class RotateAuthTokenHandler implements ICommandHandler<RotateAuthTokenCommand, IssuedAuthToken> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly keyring: Keyring,
  ) {}

  execute({ accountSid, context }: RotateAuthTokenCommand): Promise<IssuedAuthToken> {
    return issueAuthToken(this.repository, this.keyring, accountSid, context, rotateAuthToken);
  }
}
