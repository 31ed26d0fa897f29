import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Keyring, newAuthToken } from '@accountable/secrets';
import { newAccountSid } from '@accountable/twilio';
import { AccountRuleError, createSubaccount } from '../../domain';
import { AccountReader, type AccountRecord } from '../../read-models/account/account.reader';
import { AccountRepository } from '../../application/account.repository';
import { CreateSubaccountCommand } from './create-subaccount.command';

@CommandHandler(CreateSubaccountCommand)
export class CreateSubaccountHandler implements ICommandHandler<CreateSubaccountCommand, AccountRecord> {
  constructor(
    private readonly repository: AccountRepository,
    private readonly reader: AccountReader,
    private readonly keyring: Keyring,
  ) {}

  async execute(command: CreateSubaccountCommand): Promise<AccountRecord> {
    const sid = newAccountSid();
    const authToken = this.keyring.seal(newAuthToken(), sid);
    // The caller's lock serialises creates, so the limit is decided on its latest count.
    return this.repository.exclusiveWithAnswer(
      async (load) => {
        const caller = await load(command.callerSid);
        if (caller === null) throw new AccountRuleError('account_not_found', 'The calling account does not exist');
        const events = createSubaccount({ sid, friendlyName: command.friendlyName, authToken, now: new Date() }, caller);
        // The new stream first: its lock is then taken by its append, before anything is written.
        return [
          { sid, expected: 'no_stream', events: events.subaccount },
          { sid: caller.sid, expected: caller.version, events: events.owner },
        ];
      },
      async (trx, written) => (await this.reader.answerIn(trx, sid, written))!,
      command.context,
      command.idempotency,
    );
  }
}
