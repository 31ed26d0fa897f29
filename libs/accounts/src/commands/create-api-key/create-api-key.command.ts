import { Command } from '@nestjs/cqrs';
import type { ApiKeyRecord } from '../../read-models/account/api-key.reader';
import type { CommandContext } from '../../application/command-context';

/** A standard API key for `accountSid`; the answer carries its secret, which nothing stores. */
export class CreateApiKeyCommand extends Command<ApiKeyRecord & { secret: string }> {
  constructor(
    readonly accountSid: string,
    readonly friendlyName: string | undefined,
    readonly context: CommandContext,
  ) {
    super();
  }
}
