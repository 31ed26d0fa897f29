import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../application/command-context';

export class DeleteSecondaryAuthTokenCommand extends Command<void> {
  constructor(
    readonly accountSid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
