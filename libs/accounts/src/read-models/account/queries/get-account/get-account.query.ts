import { Query } from '@nestjs/cqrs';
import type { AccountRecord, AccountRow } from '../../account.reader';
import type { Caller } from '../../../../application/caller';

/** The account if the caller may see it, else null (the API answers 404 either way). */
export class GetAccountQuery extends Query<AccountRecord | null> {
  constructor(
    readonly caller: Caller,
    readonly sid: string,
    /** Read from the primary (after a write, or for authentication). */
    readonly primary = false,
    /**
     * The account's row as this request's authentication already read it from the primary
     * (null: no such account); undefined: read it here. Never a row from another request.
     */
    readonly row?: AccountRow | null,
  ) {
    super();
  }
}
