import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../application/command-context';

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
