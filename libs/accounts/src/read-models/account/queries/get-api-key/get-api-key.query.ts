import { Query } from '@nestjs/cqrs';
import type { ApiKeyRecord } from '../../api-key.reader';

/** Null: no such key on this account (404). */
export class GetApiKeyQuery extends Query<ApiKeyRecord | null> {
  constructor(
    readonly accountSid: string,
    readonly keySid: string,
  ) {
    super();
  }
}
