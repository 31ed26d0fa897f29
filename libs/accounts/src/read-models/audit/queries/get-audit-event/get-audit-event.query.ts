import { Query } from '@nestjs/cqrs';
import type { MonitorEventView } from '@accountable/twilio';
import type { AuditViewer } from '../../audit-history.queries';

/** One audit event if the viewer may see it, else null (Monitor's FetchEvent answers 404 either way). */
export class GetAuditEventQuery extends Query<MonitorEventView | null> {
  constructor(
    readonly viewer: AuditViewer,
    readonly sid: string,
  ) {
    super();
  }
}
