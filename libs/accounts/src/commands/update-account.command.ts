import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { type AccountsReadAhead, AccountRepository } from '../application/account.repository';
import type { CommandContext } from '../application/command-context';
import type { IdempotencyKey } from '../application/idempotency.store';
import { AccountRuleError, decideUpdate, type AccountStatus } from '../domain';
import { type AccountRecord, AccountReader } from '../read-models/account/account.reader';

/** One POST to an account: rename, change status, or both, atomically. */
export class UpdateAccountCommand extends Command<AccountRecord> {
  constructor(
    readonly targetSid: string,
    readonly changes: { friendlyName?: string; status?: AccountStatus },
    readonly context: CommandContext & { actorSid: string },
    /** A retry under the same key gets the first answer back, even if the account changed since. */
    readonly idempotency?: IdempotencyKey,
    /** The target and its owner, read with the caller's credentials: the command's first attempt reads nothing more. */
    readonly readAhead?: AccountsReadAhead,
  ) {
    super();
  }
}

@CommandHandler(UpdateAccountCommand)
export class UpdateAccountHandler implements ICommandHandler<UpdateAccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
  ) {}

  async execute({ targetSid, changes, context, idempotency, readAhead }: UpdateAccountCommand): Promise<AccountRecord> {
    return this.repository.execute({
      reads: [targetSid],
      // Only a status change needs the owner: its status (21476) and its subaccount count. Read
      // with the target, and its version checked at the commit even when nothing is appended to
      // it, so the change cannot slip past an owner's suspension committed meanwhile.
      owners: changes.status !== undefined,
      context,
      idempotency,
      readAhead,
      decide: (accounts) => {
        const target = accounts.get(targetSid);
        if (target === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
        const owner = changes.status !== undefined && !target.isMain ? accounts.get(target.ownerAccountSid) : null;
        const events = decideUpdate({ ...changes, actorSid: context.actorSid }, target, owner);
        return {
          changes: [{ sid: target.sid, events: events.target }, ...(owner ? [{ sid: owner.sid, events: events.owner }] : [])],
          result: (after) => this.reader.recordOf(after.get(targetSid)!),
        };
      },
    });
  }
}
