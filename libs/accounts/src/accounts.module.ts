import { Module } from '@nestjs/common';
import { AccountRepository } from './application/account.repository';
import { IdempotencyKeyPruner } from './application/idempotency-key.pruner';
import { IdempotencyStore } from './application/idempotency.store';
import { commandHandlers } from './commands';
import { OwnerCascadeProcessManager } from './process-managers/owner-cascade.process-manager';
import { AccountHistoryHandler } from './queries/account-history/account-history.handler';
import { AccountStateAtHandler, ReplayAccountHandler } from './queries/replay-account/replay-account.handler';
import { AccountReader } from './read-models/account/account.reader';
import { ApiKeyReader } from './read-models/account/api-key.reader';
import { GetAccountHandler } from './read-models/account/queries/get-account/get-account.handler';
import { GetApiKeyHandler } from './read-models/account/queries/get-api-key/get-api-key.handler';
import { ListAccountsHandler } from './read-models/account/queries/list-accounts/list-accounts.handler';
import { ListApiKeysHandler } from './read-models/account/queries/list-api-keys/list-api-keys.handler';
import { VerifyReadModelHandler } from './read-models/account/queries/verify-read-model/verify-read-model.handler';
import { GetAuditEventHandler } from './read-models/audit/queries/get-audit-event/get-audit-event.handler';
import { ListAuditEventsHandler } from './read-models/audit/queries/list-audit-events/list-audit-events.handler';

const queryHandlers = [
  GetAccountHandler,
  ListAccountsHandler,
  ReplayAccountHandler,
  AccountStateAtHandler,
  AccountHistoryHandler,
  VerifyReadModelHandler,
  ListApiKeysHandler,
  GetApiKeyHandler,
  ListAuditEventsHandler,
  GetAuditEventHandler,
];

/** The accounts use cases. Needs from the app: CqrsModule.forRoot() and the platform module. */
@Module({
  providers: [
    AccountRepository,
    AccountReader,
    ApiKeyReader,
    IdempotencyStore,
    OwnerCascadeProcessManager,
    ...commandHandlers,
    ...queryHandlers,
  ],
  // The pruner is exported, not provided here: only processes that do background work run it.
  exports: [AccountReader, ApiKeyReader, OwnerCascadeProcessManager, IdempotencyStore],
})
export class AccountsModule {}
