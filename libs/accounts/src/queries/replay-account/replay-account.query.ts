import { Query } from '@nestjs/cqrs';

/** The account's state as the API names its fields; never the auth token (debugging output). */
export interface AccountSnapshot {
  sid: string;
  friendly_name: string;
  owner_account_sid: string;
  status: string;
  type: string;
  date_created: string | null;
  date_updated: string | null;
  version: number;
}

export interface ReplayStep {
  version: number;
  type: string;
  /** The stored event's id (its Monitor sid is `AE` + its hex digits). */
  event_id: string;
  recorded_at: string;
  actor: {
    type: string | null;
    sid: string | null;
    source: string | null;
    ip: string | null;
    user_agent: string | null;
    request_id: string | null;
  };
  /** The event that caused this one (an owner cascade's parent), by id; null for a direct change. */
  causation_id: string | null;
  /** AccountStatusChanged: one of STATUS_CHANGE_REASONS. */
  reason: string | null;
  /** SubaccountAdded / SubaccountReleased: the subaccount the bookkeeping is about. */
  subaccount_sid: string | null;
  /** API field → {previous, updated}; empty for bookkeeping events. */
  changes: Record<string, { previous: unknown; updated: unknown }>;
  state: AccountSnapshot;
}

/** Every event of one account's stream in order, each with the state after it. Reads only. */
export class ReplayAccountQuery extends Query<ReplayStep[]> {
  constructor(
    readonly sid: string,
    readonly toVersion?: number,
  ) {
    super();
  }
}

/** The account as it was at an instant or after a version, folded from the log. Reads only. */
export class AccountStateAtQuery extends Query<AccountSnapshot | null> {
  constructor(
    readonly sid: string,
    readonly at: { asOf: Date } | { version: number },
  ) {
    super();
  }
}
