import { Query } from '@nestjs/cqrs';
import type { AccountRecord, ListKey } from '../../account.reader';
import type { Caller } from '../../../../application/caller';

export interface AccountListPage {
  items: AccountRecord[];
  /** Key to continue after (next page); null on the last page. */
  nextKey: ListKey | null;
  /** Key to go back before (previous page); null on the first page. */
  previousKey: ListKey | null;
}

/** The caller's accounts in date_created order (sid breaks ties), one keyset page. */
export class ListAccountsQuery extends Query<AccountListPage> {
  constructor(
    readonly caller: Caller,
    readonly filters: { friendlyName?: string; status?: string },
    readonly pageSize: number,
    readonly cursor: { direction: 'after' | 'before'; key: ListKey } | null,
    /** Without a cursor, Page N starts at N × PageSize. */
    readonly page = 0,
  ) {
    super();
  }
}
