import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../application/command-context';
import type { IssuedAuthToken } from '../create-secondary-auth-token/create-secondary-auth-token.command';

/** The operator's one step for a leaked token (`cli rotate-token`): a new token, promoted at once. */
export class RotateAuthTokenCommand extends Command<IssuedAuthToken> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
