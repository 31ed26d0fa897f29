import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiKeyReader, type ApiKeyRecord } from '../../api-key.reader';
import { GetApiKeyQuery } from './get-api-key.query';

@QueryHandler(GetApiKeyQuery)
export class GetApiKeyHandler implements IQueryHandler<GetApiKeyQuery, ApiKeyRecord | null> {
  constructor(private readonly keys: ApiKeyReader) {}

  execute({ accountSid, keySid }: GetApiKeyQuery): Promise<ApiKeyRecord | null> {
    return this.keys.find(accountSid, keySid);
  }
}
