import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ApiKeyReader, type ApiKeyRecord } from '../../api-key.reader';
import { API_KEY_LIMIT } from '../../../../domain';
import { ListApiKeysQuery } from './list-api-keys.query';

@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery, { items: ApiKeyRecord[]; hasNext: boolean }> {
  constructor(private readonly keys: ApiKeyReader) {}

  async execute({ accountSid, pageSize, page }: ListApiKeysQuery): Promise<{ items: ApiKeyRecord[]; hasNext: boolean }> {
    // Past the cap there is nothing: no offset scan for a huge Page.
    if (page * pageSize >= API_KEY_LIMIT) return { items: [], hasNext: false };
    const rows = await this.keys.list(accountSid, pageSize + 1, page * pageSize);
    return { items: rows.slice(0, pageSize), hasNext: rows.length > pageSize };
  }
}
