import { Command } from '@nestjs/cqrs';
import type { CommandContext } from '../../application/command-context';

/** Takes effect in every process with its commit: authentication reads the key on the primary each time. */
export class DeleteApiKeyCommand extends Command<void> {
  constructor(
    readonly accountSid: string,
    readonly keySid: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}
