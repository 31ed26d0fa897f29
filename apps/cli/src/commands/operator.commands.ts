import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, type Command as BusCommand } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import {
  MainAccountOperationCommand,
  OPERATOR,
  OwnerCascadeProcessManager,
  isAccountRuleError,
  type AccountRecord,
  type CommandContext,
} from '@accountable/accounts';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { EventStore, CheckpointConflictError, ProjectionRunner } from '@accountable/event-store';
import { DB, RUNTIME, type Runtime } from '@accountable/platform';
import { isAccountSid, toAccountResource } from '@accountable/twilio';
import { CliOutput, UnknownAccountError, usageError } from '../cli-output';

/**
 * An operator command on one main account: `NAME SID [--json]`, the account (without its token)
 * out. Adding one is a row here, and its decision in the domain (MAIN_ACCOUNT_OPERATIONS; what
 * reaches the subaccounts: the owner cascade's followUpOf).
 */
interface OperatorCommand {
  readonly name: string;
  readonly description: string;
  /** What it sends on the command bus. */
  readonly command: (sid: string, context: CommandContext) => BusCommand<AccountRecord>;
  /** The human answer: `<done> AC…: status …, type …`. */
  readonly done: string;
}

export const OPERATOR_COMMANDS: readonly OperatorCommand[] = [
  {
    name: 'upgrade',
    description: 'upgrade a main account from Trial to Full (its subaccounts follow)',
    command: (sid, context) => new MainAccountOperationCommand(sid, 'upgrade', context),
    done: 'upgraded',
  },
  {
    name: 'suspend',
    description: 'suspend a main account (its active subaccounts follow)',
    command: (sid, context) => new MainAccountOperationCommand(sid, 'suspend', context),
    done: 'suspended',
  },
  {
    name: 'reactivate',
    description: 'reactivate a suspended main account (restores the subaccounts it suspended)',
    command: (sid, context) => new MainAccountOperationCommand(sid, 'reactivate', context),
    done: 'reactivated',
  },
  {
    name: 'close',
    description: 'close a main account and all its subaccounts, for good (their credentials stop at once)',
    command: (sid, context) => new MainAccountOperationCommand(sid, 'close', context),
    done: 'closed',
  },
];

/** What every row runs; one subclass per row carries the row and its nest-commander metadata. */
@Injectable()
abstract class OperatorCommandRunner extends CommandRunner {
  protected abstract readonly row: OperatorCommand;

  constructor(
    private readonly commands: CommandBus,
    private readonly out: CliOutput,
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly store: EventStore,
    private readonly cascade: OwnerCascadeProcessManager,
  ) {
    super();
  }

  async run([sid]: string[], options: { json?: boolean }): Promise<void> {
    if (!isAccountSid(sid)) throw usageError(`not an account sid: ${sid ?? '(missing)'}`);
    const account = await this.commands.execute(this.row.command(sid, OPERATOR)).catch((error: unknown) => {
      throw isAccountRuleError(error) && error.reason === 'account_not_found' ? new UnknownAccountError(sid) : error;
    });
    await this.finishCascade();
    const { auth_token: _omitted, ...shown } = toAccountResource(account);
    this.out.result(options, shown, () => `${this.row.done} ${account.sid}: status ${account.status}, type ${account.type}`);
  }

  /**
   * Carries the change to the subaccounts now rather than when the service's projector gets to
   * it. Safe while the service runs: the checkpoint compare-and-set lets only one of us apply a
   * batch, and the cascade's event ids make a repeat harmless.
   */
  private async finishCascade(): Promise<void> {
    const runner = new ProjectionRunner(this.db, this.store, [this.cascade], { connectionString: this.runtime.databaseUrl });
    try {
      await runner.catchUp(this.cascade);
    } catch (error) {
      if (!(error instanceof CheckpointConflictError)) throw error;
    }
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

/** The CLI module's providers for the table: nest-commander finds a command by its class. */
export const operatorCommandRunners = OPERATOR_COMMANDS.map((row) => {
  @Command({ name: row.name, arguments: '<sid>', description: row.description })
  class RowRunner extends OperatorCommandRunner {
    protected readonly row = row;
  }
  // Nest names providers by class in its messages: one name per row.
  Object.defineProperty(RowRunner, 'name', { value: `${row.name[0].toUpperCase()}${row.name.slice(1)}Command` });
  return RowRunner;
});
