import { Query } from '@nestjs/cqrs';

export interface Drift {
  sid: string;
  field: string;
  /** From folding the log. */
  expected: unknown;
  /** In the read model. */
  actual: unknown;
}

/**
 * An event stored before migration 0009 whose time is earlier than the version before it:
 * information, not drift (its time was its transaction's start; see README "Time travel").
 */
export interface TimeInversion {
  sid: string;
  version: number;
  recordedAt: string;
  previousRecordedAt: string;
}

/** A stored secret the keyring cannot open (its key is missing, or the value was altered). */
export interface UnopenableSecret {
  sid: string;
  /** Where it is stored: `MainAccountCreated v1`, `account_read_model`, `idempotency_keys "<key>"`. */
  where: string;
  /** Why it does not open (Keyring.check); never the value. */
  reason: string;
}

export interface VerifyReport {
  accountsChecked: number;
  drifts: Drift[];
  oldTimeInversions: TimeInversion[];
  /** The first 1,000 of them; `unopenableCount` counts them all. */
  unopenableSecrets: UnopenableSecret[];
  unopenableCount: number;
  /** Idempotency answers checked (each is sealed: it holds an auth token). */
  idempotencyAnswersChecked: number;
}

/**
 * Folds every account stream and compares it with the read model, field by field; checks that
 * each stream's versions run 1..n and, for events stamped since migration 0009, that its times
 * do not run back against its versions; and that the keyring opens every stored secret (the
 * tokens in the creation events and in the read model, the idempotency answers). Reads only.
 */
export class VerifyReadModelQuery extends Query<VerifyReport> {
  constructor(readonly batchSize = 500) {
    super();
  }
}
