import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../application/command-context';
import type { IssuedAuthToken } from '../create-secondary-auth-token/create-secondary-auth-token.command';

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
