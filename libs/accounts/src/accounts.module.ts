import { Module } from '@nestjs/common';
import { AccountReader } from './application/account.reader';
import { AccountRepository } from './application/account.repository';
import { IdempotencyKeyPruner } from './application/idempotency-key.pruner';
import { IdempotencyStore } from './application/idempotency.store';
import { CreateMainAccountHandler } from './commands/create-main-account/create-main-account.handler';
import { CreateSubaccountHandler } from './commands/create-subaccount/create-subaccount.handler';
import { ReactivateMainAccountHandler } from './commands/reactivate-main-account/reactivate-main-account.handler';
import { SuspendMainAccountHandler } from './commands/suspend-main-account/suspend-main-account.handler';
import { UpdateAccountHandler } from './commands/update-account/update-account.handler';
import { UpgradeAccountHandler } from './commands/upgrade-account/upgrade-account.handler';
import { OwnerCascadeProjection } from './process-managers/owner-cascade.projection';
import { AccountHistoryHandler } from './queries/account-history/account-history.handler';
import { GetAccountHandler } from './queries/get-account/get-account.handler';
import { ListAccountsHandler } from './queries/list-accounts/list-accounts.handler';
import { AccountStateAtHandler, ReplayAccountHandler } from './queries/replay-account/replay-account.handler';
import { VerifyReadModelHandler } from './queries/verify-read-model/verify-read-model.handler';

/**
 * The accounts use cases. Needs from the app: CqrsModule.forRoot(), the platform module, and a
 * binding for ACCOUNT_READ_MODEL_WRITER.
 */
@Module({
  providers: [
    AccountRepository,
    AccountReader,
    IdempotencyStore,
    OwnerCascadeProjection,
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
  ],
  // The pruner is exported, not provided here: only processes that do background work run it.
  exports: [AccountReader, OwnerCascadeProjection, IdempotencyStore],
})
export class AccountsModule {}
