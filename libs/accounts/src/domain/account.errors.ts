/**
 * The business rules a command can break, by name. `reason` is stable and what callers branch
 * on; the wire's status and error number for each are the HTTP edge's business
 * (apps/api/src/http/rule-errors.ts), never the domain's.
 */
export type AccountRuleReason =
  | 'account_exists'
  | 'account_not_found'
  | 'account_not_active'
  | 'account_closed'
  | 'friendly_name_invalid'
  | 'not_main_account'
  | 'subaccount_limit'
  | 'main_status_change'
  | 'self_status_change'
  | 'owner_suspended'
  | 'operator_main_only'
  | 'already_full'
  | 'invalid_transition'
  | 'api_key_name_invalid'
  | 'api_key_not_found'
  | 'api_key_limit'
  | 'secondary_auth_token_not_found';

export class AccountRuleError extends Error {
  override readonly name = 'AccountRuleError';

  constructor(
    readonly reason: AccountRuleReason,
    message: string,
  ) {
    super(message);
  }
}

export const isAccountRuleError = (error: unknown): error is AccountRuleError => error instanceof AccountRuleError;
