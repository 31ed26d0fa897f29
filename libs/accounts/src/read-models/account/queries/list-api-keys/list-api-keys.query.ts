import { Query } from '@nestjs/cqrs';
import type { ApiKeyRecord } from '../../api-key.reader';

/** A page of an account's keys; the caller's right to see the account is checked before. */
export class ListApiKeysQuery extends Query<{ items: ApiKeyRecord[]; hasNext: boolean }> {
  constructor(
    readonly accountSid: string,
    readonly pageSize: number,
    readonly page: number,
  ) {
    super();
  }
}
