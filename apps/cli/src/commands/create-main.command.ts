import { CommandBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { CreateMainAccountCommand, isAccountType, OPERATOR, type AccountType } from '@accountable/accounts';
import { toAccountResource } from '@accountable/twilio';
import { CliOutput } from '../cli-output';

interface Options {
  friendlyName: string;
  type: AccountType;
  json?: boolean;
}

/** Sign-up: the only way a main account is made. Prints the account as the API shows it, token included. */
@Command({ name: 'create-main', description: 'create a main account and print its credentials' })
export class CreateMainCommand extends CommandRunner {
  constructor(
    private readonly commands: CommandBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: Options): Promise<void> {
    const account = await this.commands.execute(new CreateMainAccountCommand(options.friendlyName, options.type ?? 'Trial', OPERATOR));
    const resource = toAccountResource(account);
    this.out.result(options, resource, () =>
      [
        `created main account ${account.sid} (${account.type})`,
        `  account sid: ${account.sid}`,
        `  auth token:  ${account.authToken}`,
        '',
        JSON.stringify(resource, null, 2),
      ].join('\n'),
    );
  }

  @Option({ flags: '--friendly-name <name>', description: 'the account name (1–64 characters)', required: true })
  parseFriendlyName(value: string): string {
    return value;
  }

  @Option({ flags: '--type <type>', description: 'Trial (default) or Full' })
  parseType(value: string): AccountType {
    if (!isAccountType(value)) throw new Error(`--type must be Trial or Full, not ${value}`);
    return value;
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}
