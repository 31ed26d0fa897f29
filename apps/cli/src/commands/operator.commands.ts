import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import {
  OPERATOR,
  OwnerCascadeProcessManager,
  ReactivateMainAccountCommand,
  SuspendMainAccountCommand,
  UpgradeAccountCommand,
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

type Make = (sid: string, context: CommandContext) => UpgradeAccountCommand | SuspendMainAccountCommand | ReactivateMainAccountCommand;

/** The operator's one-account commands share a shape: SID in, the account (without its token) out. */
@Injectable()
abstract class MainAccountOperation extends CommandRunner {
  protected abstract readonly make: Make;
  protected abstract readonly done: string;

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
    const account: AccountRecord = await this.commands.execute(this.make(sid, OPERATOR)).catch((error: unknown) => {
      throw isAccountRuleError(error) && error.reason === 'account_not_found' ? new UnknownAccountError(sid) : error;
    });
    await this.finishCascade();
    const { auth_token: _omitted, ...shown } = toAccountResource(account);
    this.out.result(options, shown, () => `${this.done} ${account.sid}: status ${account.status}, type ${account.type}`);
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

@Command({ name: 'upgrade', arguments: '<sid>', description: 'upgrade a main account from Trial to Full (its subaccounts follow)' })
export class UpgradeCommand extends MainAccountOperation {
  protected readonly make: Make = (sid, context) => new UpgradeAccountCommand(sid, context);
  protected readonly done = 'upgraded';
}

@Command({ name: 'suspend', arguments: '<sid>', description: 'suspend a main account (its active subaccounts follow)' })
export class SuspendCommand extends MainAccountOperation {
  protected readonly make: Make = (sid, context) => new SuspendMainAccountCommand(sid, context);
  protected readonly done = 'suspended';
}

@Command({ name: 'reactivate', arguments: '<sid>', description: 'reactivate a suspended main account (restores the subaccounts it suspended)' })
export class ReactivateCommand extends MainAccountOperation {
  protected readonly make: Make = (sid, context) => new ReactivateMainAccountCommand(sid, context);
  protected readonly done = 'reactivated';
}
