import { Command } from '@nestjs/cqrs';
import type { ApiKeyRecord } from '../../read-models/account/api-key.reader';
import type { CommandContext } from '../../application/command-context';

export class UpdateApiKeyCommand extends Command<ApiKeyRecord> {
  constructor(
    readonly accountSid: string,
    readonly keySid: string,
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}
