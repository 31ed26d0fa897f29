import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { AccountRuleError, decideUpdate } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository } from '../../application/account.repository';
import { UpdateAccountCommand } from './update-account.command';

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
