import type { FactoryProvider } from '@nestjs/common';
import { HeadSigner, LedgerProjection } from '@accountable/ledger';
import { PROJECTIONS } from '@accountable/platform';
import { OwnerCascadeProcessManager } from './process-managers/owner-cascade.process-manager';
import { AccountReadModelProjection } from './read-models/account/account-read-model.projection';
import { AuditHistoryProjection } from './read-models/audit/audit-history.projection';

/** Every projection, in one list for the service's projector and the CLI's status and rebuild. */
export const projectionsProvider: FactoryProvider = {
  provide: PROJECTIONS,
  useFactory: (cascade: OwnerCascadeProcessManager, signer: HeadSigner) => [new AccountReadModelProjection(), cascade, new AuditHistoryProjection(), new LedgerProjection(signer)],
  inject: [OwnerCascadeProcessManager, HeadSigner],
};
