import type { AccountRuleError, AccountRuleReason } from '@accountable/accounts';
import { twilioError, TwilioErrors, type TwilioError, type TwilioErrorKind } from '@accountable/twilio';

/**
 * Each broken rule as Twilio answers it (shared/twilio/COMPAT.md): the catalog entry that gives
 * its status and error number. `satisfies Record<…>` makes a new reason a compile error until it
 * is mapped here. Rules Twilio has no number for (operator-only ones, or none it documents) are
 * an invalid parameter, 400 20002.
 */
export const RULE_ERRORS = {
  account_exists: 'invalidParameter',
  account_not_found: 'notFound',
  account_not_active: 'invalidParameter',
  account_closed: 'accountClosed',
  friendly_name_invalid: 'invalidParameter',
  not_main_account: 'subaccountCannotCreateSubaccount',
  subaccount_limit: 'subaccountLimitReached',
  main_status_change: 'cannotChangeOwnStatus',
  self_status_change: 'forbidden',
  owner_suspended: 'parentSuspended',
  operator_main_only: 'invalidParameter',
  already_full: 'invalidParameter',
  invalid_transition: 'invalidParameter',
  api_key_name_invalid: 'apiKeyConstraintViolation',
  api_key_not_found: 'notFound',
  api_key_limit: 'apiKeyLimitReached',
  secondary_auth_token_not_found: 'notFound',
} as const satisfies Record<AccountRuleReason, TwilioErrorKind>;

/** The domain's message goes out as is; a missing account names the path asked for instead. */
export function twilioErrorOfRule(error: AccountRuleError, path: string): TwilioError {
  const kind: TwilioErrorKind = RULE_ERRORS[error.reason];
  return kind === 'notFound' ? TwilioErrors.notFound(path) : twilioError(kind, error.message);
}
