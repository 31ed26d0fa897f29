export * from './domain';
export { AccountsModule } from './accounts.module';
export { AccountReader, type AccountRecord, type ListKey } from './application/account.reader';
export {
  ACCOUNT_READ_MODEL_WRITER,
  AccountRepository,
  type AccountReadModelWriter,
  type CommittedAccountEvent,
} from './application/account.repository';
export { canSee, type Caller } from './application/caller';
export { OPERATOR, eventMetadata, type CommandContext } from './application/command-context';
export { IdempotencyKeyReusedError, isIdempotencyKeyReusedError, IdempotencyStore, type IdempotencyKey } from './application/idempotency.store';
export { IdempotencyKeyPruner } from './application/idempotency-key.pruner';
export { CreateMainAccountCommand } from './commands/create-main-account/create-main-account.command';
export { CreateSubaccountCommand } from './commands/create-subaccount/create-subaccount.command';
export { UpdateAccountCommand } from './commands/update-account/update-account.command';
export { UpgradeAccountCommand } from './commands/upgrade-account/upgrade-account.command';
export { SuspendMainAccountCommand } from './commands/suspend-main-account/suspend-main-account.command';
export { ReactivateMainAccountCommand } from './commands/reactivate-main-account/reactivate-main-account.command';
export { OwnerCascadeProjection, followUpEventId } from './process-managers/owner-cascade.projection';
export { GetAccountQuery } from './queries/get-account/get-account.query';
export { ListAccountsQuery, type AccountListPage } from './queries/list-accounts/list-accounts.query';
export { ReplayAccountQuery, AccountStateAtQuery, type ReplayStep, type AccountSnapshot } from './queries/replay-account/replay-account.query';
export { AccountHistoryQuery, MAX_LINKED_EFFECTS, type AccountHistory, type HistoryEntry, type EventLink } from './queries/account-history/account-history.query';
export { snapshotOf } from './queries/replay-account/replay-account.handler';
export { VerifyReadModelQuery, type Drift, type UnopenableSecret, type VerifyReport } from './queries/verify-read-model/verify-read-model.query';
export { findUnopenableKeys, sealedTokenSamples, storedSecretsRefusal, unopenableKeysMessage, type UnopenableKey } from './application/stored-secrets.check';
export { ApiKeyReader, type ApiKeyRecord, type ApiKeyCredential } from './application/api-key.reader';
export { CreateApiKeyCommand } from './commands/create-api-key/create-api-key.command';
export { UpdateApiKeyCommand } from './commands/update-api-key/update-api-key.command';
export { DeleteApiKeyCommand } from './commands/delete-api-key/delete-api-key.command';
export { ListApiKeysQuery } from './queries/list-api-keys/list-api-keys.query';
export { GetApiKeyQuery } from './queries/get-api-key/get-api-key.query';
export { CreateSecondaryAuthTokenCommand, type IssuedAuthToken } from './commands/create-secondary-auth-token/create-secondary-auth-token.command';
export { DeleteSecondaryAuthTokenCommand } from './commands/delete-secondary-auth-token/delete-secondary-auth-token.command';
export { PromoteAuthTokenCommand } from './commands/promote-auth-token/promote-auth-token.command';
export { RotateAuthTokenCommand } from './commands/rotate-auth-token/rotate-auth-token.command';
