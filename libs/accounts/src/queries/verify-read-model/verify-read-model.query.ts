import { Query } from '@nestjs/cqrs';

export interface Drift {
  sid: string;
  field: string;
  /** From folding the log. */
  expected: unknown;
  /** In the read model. */
  actual: unknown;
}

export interface VerifyReport {
  accountsChecked: number;
  drifts: Drift[];
}

/** Folds every account stream and compares it with the read model, field by field. Reads only. */
export class VerifyReadModelQuery extends Query<VerifyReport> {
  constructor(readonly batchSize = 500) {
    super();
  }
}
