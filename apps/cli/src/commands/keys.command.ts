import { QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { API_KEY_LIMIT, ListApiKeysQuery } from '@accountable/accounts';
import { isAccountSid, toApiKeyResource } from '@accountable/twilio';
import { CliOutput, usageError } from '../cli-output';

/** An account's API keys as the API lists them: sid, name, dates. Secrets are never stored, so never shown. */
@Command({ name: 'keys', arguments: '<sid>', description: "list an account's API keys (no secrets)" })
export class KeysCommand extends CommandRunner {
  constructor(
    private readonly queries: QueryBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([sid]: string[], options: { json?: boolean }): Promise<void> {
    if (!isAccountSid(sid)) throw usageError(`not an account sid: ${sid ?? '(missing)'}`);
    const { items } = await this.queries.execute(new ListApiKeysQuery(sid, API_KEY_LIMIT, 0));
    const keys = items.map(toApiKeyResource);
    this.out.result(options, keys, () =>
      keys.length === 0
        ? `${sid} has no API keys`
        : [`${keys.length} API key(s) of ${sid}:`, ...keys.map((k) => `  ${k.sid}  ${k.date_created}  ${k.friendly_name ?? '(no name)'}`)].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
