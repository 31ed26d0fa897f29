import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { READ_DB } from '@accountable/platform';
import { AuditHistoryQueries, listAuditPage, type AuditPage } from '../../audit-history.queries';
import { ListAuditEventsQuery } from './list-audit-events.query';

@QueryHandler(ListAuditEventsQuery)
export class ListAuditEventsHandler implements IQueryHandler<ListAuditEventsQuery, AuditPage> {
  private readonly history: AuditHistoryQueries;

  // The audit history is a projection: the read database serves it (the replica when there is one).
  constructor(@Inject(READ_DB) db: Kysely<Database>) {
    this.history = new AuditHistoryQueries(db);
  }

  execute({ viewer, filters, pageSize, cursor, page }: ListAuditEventsQuery): Promise<AuditPage> {
    return listAuditPage(this.history, viewer, filters, pageSize, cursor, page);
  }
}
