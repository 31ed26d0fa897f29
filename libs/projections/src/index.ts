export type { Projection } from '@accountable/event-store';
export { CheckpointStore } from './runner/checkpoint-store';
export { ProjectionRunner, CheckpointConflictError, type ProjectionRunnerOptions, type RunnerLogger } from './runner/projection-runner';
export { ParkedEventStore, isTransientFailure, type ParkedEvent } from './runner/parked-events';
export {
  AccountReadModelProjection,
  applyAccountEvent,
  accountReadModelWriter,
  ReadModelDriftError,
  type AccountReadModelInput,
} from './account-read-model/account-read-model.projection';
export { ProjectorService, PROJECTIONS } from './projector.service';
export { AuditHistoryProjection, AuditOwnerUnknownError } from './audit-history/audit-history.projection';
export { AuditEventType, auditEntryOf, type AuditEntry } from './audit-history/audit-entry';
export {
  AuditHistoryQueries,
  searchAudit,
  type AuditSearch,
  type AuditFilters,
  type AuditListRequest,
  type AuditPage,
  type AuditViewer,
} from './audit-history/audit-history.queries';
export { ListAuditEventsQuery } from './audit-history/queries/list-audit-events/list-audit-events.query';
export { ListAuditEventsHandler } from './audit-history/queries/list-audit-events/list-audit-events.handler';
export { GetAuditEventQuery } from './audit-history/queries/get-audit-event/get-audit-event.query';
export { GetAuditEventHandler } from './audit-history/queries/get-audit-event/get-audit-event.handler';
export {
  ProjectionAdmin,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildResult,
  type RebuildParked,
  type RetryOutcome,
  type RebuildableProjection,
} from './admin/projection-admin';
export { projectionsProvider } from './projections.provider';
