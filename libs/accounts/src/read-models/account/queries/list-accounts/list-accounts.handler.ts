import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { keysetWindow } from '@accountable/twilio';
import { AccountReader, type AccountRecord, type ListKey } from '../../account.reader';
import { ListAccountsQuery, type AccountListPage } from './list-accounts.query';

@QueryHandler(ListAccountsQuery)
export class ListAccountsHandler implements IQueryHandler<ListAccountsQuery, AccountListPage> {
  constructor(private readonly reader: AccountReader) {}

  async execute({ caller, filters, pageSize, cursor, page }: ListAccountsQuery): Promise<AccountListPage> {
    const rows = await this.reader.list({
      caller,
      ...filters,
      // One row more than the page tells whether another page follows.
      limit: pageSize + 1,
      after: cursor?.direction === 'after' ? cursor.key : undefined,
      before: cursor?.direction === 'before' ? cursor.key : undefined,
      offset: cursor ? undefined : page * pageSize,
    });
    const window = keysetWindow<AccountRecord, ListKey>({
      rows,
      pageSize,
      direction: cursor?.direction ?? null,
      keyOf: (r) => ({ dateCreated: r.dateCreated, sid: r.sid }),
    });
    // Offset pages past the first have a page before them even without a cursor.
    const previousKey = window.previousKey ?? (!cursor && page > 0 && window.items[0] ? { dateCreated: window.items[0].dateCreated, sid: window.items[0].sid } : null);
    return { items: window.items, nextKey: window.nextKey, previousKey };
  }
}
