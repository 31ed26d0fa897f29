import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { READ_DB } from '@accountable/platform';
import type { MonitorEventView } from '@accountable/twilio';
import { AuditHistoryQueries } from '../../audit-history.queries';
import { GetAuditEventQuery } from './get-audit-event.query';

@QueryHandler(GetAuditEventQuery)
export class GetAuditEventHandler implements IQueryHandler<GetAuditEventQuery, MonitorEventView | null> {
  private readonly history: AuditHistoryQueries;

  constructor(@Inject(READ_DB) db: Kysely<Database>) {
    this.history = new AuditHistoryQueries(db);
  }

  execute({ viewer, sid }: GetAuditEventQuery): Promise<MonitorEventView | null> {
    return this.history.find(viewer, sid);
  }
}
