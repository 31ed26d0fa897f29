export * from './domain';
export { AccountsModule } from './accounts.module';
export { AccountReader, type AccountRecord, type ListKey } from './read-models/account/account.reader';
export {
  AccountRepository,
  type AccountChange,
  type AccountCommand,
  type AccountDecision,
  type AccountsRead,
  type AccountsReadAhead,
  rowReadAhead,
} from './application/account.repository';
export { accountOfRow, apiKeyRowChange, evolveAccountRow, rowOfAccount, type AccountRowStep, type AccountSnapshotRow, type ApiKeyRowChange } from './read-models/account/account.snapshot';
export { canSee, type Caller } from './application/caller';
export { OPERATOR, eventMetadata, type CommandContext } from './application/command-context';
export { IdempotencyKeyReusedError, isIdempotencyKeyReusedError, IdempotencyStore, reviveRecordDates, type IdempotencyKey } from './application/idempotency.store';
export { IdempotencyKeyPruner } from './application/idempotency-key.pruner';
export * from './commands';
export { OwnerCascadeProcessManager, followUpEventId } from './process-managers/owner-cascade.process-manager';
export { GetAccountQuery } from './read-models/account/queries/get-account/get-account.query';
export { ListAccountsQuery, type AccountListPage } from './read-models/account/queries/list-accounts/list-accounts.query';
export { ReplayAccountQuery, AccountStateAtQuery, type ReplayStep, type AccountSnapshot } from './queries/replay-account/replay-account.query';
export { AccountHistoryQuery, MAX_LINKED_EFFECTS, type AccountHistory, type HistoryEntry, type EventLink } from './queries/account-history/account-history.query';
export { snapshotOf } from './queries/replay-account/replay-account.handler';
export { VerifyReadModelQuery, type Drift, type UnopenableSecret, type VerifyReport } from './read-models/account/queries/verify-read-model/verify-read-model.query';
export { findUnopenableKeys, sealedTokenSamples, storedSecretsRefusal, unopenableKeysMessage, type UnopenableKey } from './application/stored-secrets.check';
export { ApiKeyReader, type ApiKeyRecord, type ApiKeyCredential } from './read-models/account/api-key.reader';
export { ListApiKeysQuery } from './read-models/account/queries/list-api-keys/list-api-keys.query';
export { GetApiKeyQuery } from './read-models/account/queries/get-api-key/get-api-key.query';
export { AccountReadModelProjection, ReadModelDriftError } from './read-models/account/account-read-model.projection';
export { AuditHistoryProjection, AuditOwnerUnknownError } from './read-models/audit/audit-history.projection';
export { AuditEventType, auditEntryOf, type AuditEntry } from './read-models/audit/audit-entry';
export {
  AuditHistoryQueries,
  searchAudit,
  type AuditSearch,
  type AuditFilters,
  type AuditListRequest,
  type AuditPage,
  type AuditViewer,
} from './read-models/audit/audit-history.queries';
export { ListAuditEventsQuery } from './read-models/audit/queries/list-audit-events/list-audit-events.query';
export { GetAuditEventQuery } from './read-models/audit/queries/get-audit-event/get-audit-event.query';
export { projectionsProvider } from './projections.provider';
