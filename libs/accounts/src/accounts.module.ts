import { Module } from '@nestjs/common';
import { AccountReader } from './read-models/account/account.reader';
import { AccountRepository } from './application/account.repository';
import { ApiKeyReader } from './read-models/account/api-key.reader';
import { CreateSecondaryAuthTokenHandler } from './commands/create-secondary-auth-token/create-secondary-auth-token.handler';
import { DeleteSecondaryAuthTokenHandler } from './commands/delete-secondary-auth-token/delete-secondary-auth-token.handler';
import { PromoteAuthTokenHandler } from './commands/promote-auth-token/promote-auth-token.handler';
import { RotateAuthTokenHandler } from './commands/rotate-auth-token/rotate-auth-token.handler';
import { CreateApiKeyHandler } from './commands/create-api-key/create-api-key.handler';
import { DeleteApiKeyHandler } from './commands/delete-api-key/delete-api-key.handler';
import { UpdateApiKeyHandler } from './commands/update-api-key/update-api-key.handler';
import { GetApiKeyHandler } from './read-models/account/queries/get-api-key/get-api-key.handler';
import { ListApiKeysHandler } from './read-models/account/queries/list-api-keys/list-api-keys.handler';
import { IdempotencyKeyPruner } from './application/idempotency-key.pruner';
import { IdempotencyStore } from './application/idempotency.store';
import { CreateMainAccountHandler } from './commands/create-main-account/create-main-account.handler';
import { CreateSubaccountHandler } from './commands/create-subaccount/create-subaccount.handler';
import { ReactivateMainAccountHandler } from './commands/reactivate-main-account/reactivate-main-account.handler';
import { SuspendMainAccountHandler } from './commands/suspend-main-account/suspend-main-account.handler';
import { UpdateAccountHandler } from './commands/update-account/update-account.handler';
import { UpgradeAccountHandler } from './commands/upgrade-account/upgrade-account.handler';
import { OwnerCascadeProcessManager } from './process-managers/owner-cascade.process-manager';
import { AccountHistoryHandler } from './queries/account-history/account-history.handler';
import { GetAccountHandler } from './read-models/account/queries/get-account/get-account.handler';
import { ListAccountsHandler } from './read-models/account/queries/list-accounts/list-accounts.handler';
import { AccountStateAtHandler, ReplayAccountHandler } from './queries/replay-account/replay-account.handler';
import { VerifyReadModelHandler } from './read-models/account/queries/verify-read-model/verify-read-model.handler';

/** The accounts use cases. Needs from the app: CqrsModule.forRoot() and the platform module. */
@Module({
  providers: [
    AccountRepository,
    AccountReader,
    IdempotencyStore,
    OwnerCascadeProcessManager,
    CreateMainAccountHandler,
    CreateSubaccountHandler,
    UpdateAccountHandler,
    UpgradeAccountHandler,
    SuspendMainAccountHandler,
    ReactivateMainAccountHandler,
    GetAccountHandler,
    ListAccountsHandler,
    ReplayAccountHandler,
    AccountStateAtHandler,
    AccountHistoryHandler,
    VerifyReadModelHandler,
    ApiKeyReader,
    CreateApiKeyHandler,
    UpdateApiKeyHandler,
    DeleteApiKeyHandler,
    ListApiKeysHandler,
    GetApiKeyHandler,
    CreateSecondaryAuthTokenHandler,
    DeleteSecondaryAuthTokenHandler,
    PromoteAuthTokenHandler,
    RotateAuthTokenHandler,
  ],
  // The pruner is exported, not provided here: only processes that do background work run it.
  exports: [AccountReader, ApiKeyReader, OwnerCascadeProcessManager, IdempotencyStore],
})
export class AccountsModule {}
