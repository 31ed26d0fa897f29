import type { FactoryProvider } from '@nestjs/common';
import { HeadSigner, LedgerProjection } from '@accountable/ledger';
import { PROJECTIONS, RUNTIME, type Runtime } from '@accountable/platform';
import { OwnerCascadeProcessManager } from './process-managers/owner-cascade.process-manager';
import { AccountReadModelProjection } from './read-models/account/account-read-model.projection';
import { AuditHistoryProjection } from './read-models/audit/audit-history.projection';

/**
 * Every projection, in one list for the service's projector and the CLI's status and rebuild.
 * LEDGER=off leaves the ledger out of it: nothing runs, waits for or reports it.
 */
export const projectionsProvider: FactoryProvider = {
  provide: PROJECTIONS,
  useFactory: (cascade: OwnerCascadeProcessManager, signer: HeadSigner, runtime: Runtime) => [
    new AccountReadModelProjection(),
    cascade,
    new AuditHistoryProjection(),
    ...(runtime.config.LEDGER === 'on' ? [new LedgerProjection(signer)] : []),
  ],
  inject: [OwnerCascadeProcessManager, HeadSigner, RUNTIME],
};
