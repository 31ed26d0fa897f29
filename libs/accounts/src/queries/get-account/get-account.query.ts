import { Query } from '@nestjs/cqrs';
import type { AccountRecord } from '../../application/account.reader';
import type { Caller } from '../../application/caller';

/** The account if the caller may see it, else null (the API answers 404 either way). */
export class GetAccountQuery extends Query<AccountRecord | null> {
  constructor(
    readonly caller: Caller,
    readonly sid: string,
    /** Read from the primary (after a write, or for authentication). */
    readonly primary = false,
  ) {
    super();
  }
}
