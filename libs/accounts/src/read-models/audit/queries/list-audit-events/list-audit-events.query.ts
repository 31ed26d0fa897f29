import { Query } from '@nestjs/cqrs';
import type { EventPageKey, PageCursor } from '@accountable/twilio';
import type { AuditFilters, AuditPage, AuditViewer } from '../../audit-history.queries';

/** A page of the audit history the viewer may see, newest first (Monitor's ListEvent). */
export class ListAuditEventsQuery extends Query<AuditPage> {
  constructor(
    readonly viewer: AuditViewer,
    readonly filters: AuditFilters,
    readonly pageSize: number,
    readonly cursor: PageCursor<EventPageKey> | null,
    readonly page = 0,
  ) {
    super();
  }
}
