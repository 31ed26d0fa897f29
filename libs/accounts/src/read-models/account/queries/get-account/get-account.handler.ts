import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AccountReader, type AccountRecord } from '../../account.reader';
import { canSee } from '../../../../application/caller';
import { GetAccountQuery } from './get-account.query';

@QueryHandler(GetAccountQuery)
export class GetAccountHandler implements IQueryHandler<GetAccountQuery, AccountRecord | null> {
  constructor(private readonly reader: AccountReader) {}

  async execute({ caller, sid, primary, row: known }: GetAccountQuery): Promise<AccountRecord | null> {
    const row = known === undefined ? await this.reader.findRow(sid, primary) : known;
    return row && canSee(caller, row.sid, row.owner_account_sid) ? this.reader.toRecord(row) : null;
  }
}
