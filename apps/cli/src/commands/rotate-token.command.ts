import { CommandBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { OPERATOR, RotateAuthTokenCommand } from '@accountable/accounts';
import { isAccountSid } from '@accountable/twilio';
import { CliOutput, usageError } from '../cli-output';

/**
 * A leaked token, stopped in one step: a new token created and promoted in one append, so the
 * old primary (and any secondary there was) fails from the commit on, in every process. The new
 * token is printed this once; nothing can show it again but the Accounts API to its holder.
 */
@Command({ name: 'rotate-token', arguments: '<sid>', description: "replace an account's auth token at once (prints the new one once)" })
export class RotateTokenCommand extends CommandRunner {
  constructor(
    private readonly commands: CommandBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([sid]: string[], options: { json?: boolean }): Promise<void> {
    if (!isAccountSid(sid)) throw usageError(`not an account sid: ${sid ?? '(missing)'}`);
    const rotated = await this.commands.execute(new RotateAuthTokenCommand(sid, OPERATOR));
    this.out.result(options, { account_sid: rotated.accountSid, auth_token: rotated.authToken, date_updated: rotated.at.toISOString() }, () =>
      [
        `rotated the auth token of ${sid}: the previous token (and any secondary token) no longer authenticates`,
        `  new auth token: ${rotated.authToken}`,
      ].join('\n'),
    );
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
