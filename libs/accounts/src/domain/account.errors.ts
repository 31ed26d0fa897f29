/**
 * Broken business rules. `reason` is stable and what callers branch on; `code` is Twilio's error
 * number where Twilio has one (shared/twilio/COMPAT.md), so the one exception filter can map it
 * without a second table. HTTP statuses stay outside the domain.
 */
export const ACCOUNT_RULE_CODES = Object.freeze({
  account_exists: null,
  account_not_found: 20404,
  account_not_active: null,
  account_closed: 21479,
  friendly_name_invalid: 20002,
  not_main_account: 21101,
  subaccount_limit: 21480,
  status_invalid: 21475,
  main_status_change: 21477,
  self_status_change: 20006,
  owner_suspended: 21476,
  operator_main_only: null,
  already_full: null,
  invalid_transition: null,
} satisfies Record<string, number | null>);

export type AccountRuleReason = keyof typeof ACCOUNT_RULE_CODES;

export class AccountRuleError extends Error {
  override readonly name = 'AccountRuleError';
  /** Twilio's error code, or null where Twilio defines none (operator-only rules). */
  readonly code: number | null;

  constructor(
    readonly reason: AccountRuleReason,
    message: string,
  ) {
    super(message);
    this.code = ACCOUNT_RULE_CODES[reason];
  }
}

export const isAccountRuleError = (error: unknown): error is AccountRuleError => error instanceof AccountRuleError;
