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

  async execute({ targetSid, changes, context, idempotency }: UpdateAccountCommand): Promise<AccountRecord> {
    return this.repository.exclusiveWithAnswer(
      async (load) => {
        const target = await load(targetSid);
        if (target === null) throw new AccountRuleError('account_not_found', 'The account does not exist');
        // Only a status change needs the owner (its status and the subaccount count). Loaded, and
        // so locked, after the subaccount: the lock order the repository relies on.
        const owner = changes.status !== undefined && !target.isMain ? await load(target.ownerAccountSid) : null;
        const events = decideUpdate({ ...changes, actorSid: context.actorSid }, target, owner);
        return [
          { sid: target.sid, expected: target.version, events: events.target },
          ...(owner ? [{ sid: owner.sid, expected: owner.version, events: events.owner }] : []),
        ];
      },
      async (trx, written) => (await this.reader.answerIn(trx, targetSid, written))!,
      context,
      idempotency,
    );
  }
}
