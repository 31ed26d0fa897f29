import type { FactoryProvider } from '@nestjs/common';
import { OwnerCascadeProjection } from '@accountable/accounts';
import { HeadSigner, LedgerProjection } from '@accountable/ledger';
import { AccountReadModelProjection } from './account-read-model/account-read-model.projection';
import { AuditHistoryProjection } from './audit-history/audit-history.projection';
import { PROJECTIONS } from './projector.service';

/** Every projection, in one list for the service's projector and the CLI's status and rebuild. */
export const projectionsProvider: FactoryProvider = {
  provide: PROJECTIONS,
  useFactory: (cascade: OwnerCascadeProjection, signer: HeadSigner) => [new AccountReadModelProjection(), cascade, new AuditHistoryProjection(), new LedgerProjection(signer)],
  inject: [OwnerCascadeProjection, HeadSigner],
};
