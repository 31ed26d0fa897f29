import type { FactoryProvider } from '@nestjs/common';
import { OwnerCascadeProjection } from '@accountable/accounts';
import { AccountReadModelProjection } from './account-read-model/account-read-model.projection';
import { AuditHistoryProjection } from './audit-history/audit-history.projection';
import { PROJECTIONS } from './projector.service';

/** Every projection, in one list for the service's projector and the CLI's status and rebuild. */
export const projectionsProvider: FactoryProvider = {
  provide: PROJECTIONS,
  useFactory: (cascade: OwnerCascadeProjection) => [new AccountReadModelProjection(), cascade, new AuditHistoryProjection()],
  inject: [OwnerCascadeProjection],
};
