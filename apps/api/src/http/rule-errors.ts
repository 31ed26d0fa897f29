import type { AccountRuleError, AccountRuleReason } from '@accountable/accounts';
import type { EventStreamsRuleError, EventStreamsRuleReason } from '@accountable/event-streams';
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

/**
 * Event Streams rules (libs/event-streams) as Twilio's 910xx/911xx/912xx codes (EVENT-STREAMS.md
 * §7); an exhaustive table as above.
 */
export const EVENT_STREAMS_RULE_ERRORS = {
  sink_configuration_invalid: 'sinkCreateFailed',
  sink_type_unsupported: 'sinkCreateFailed',
  sink_description_invalid: 'sinkCreateFailed',
  sink_destination_refused: 'sinkCreateFailed',
  sink_not_found: 'sinkNotFound',
  sink_sid_invalid: 'sinkSidInvalid',
  sink_limit: 'sinkLimitReached',
  sink_in_use: 'sinkInUse',
  sink_not_active: 'sinkNotActive',
  test_not_found: 'sinkTestNotFound',
  test_id_invalid: 'sinkTestIdInvalid',
  subscription_description_invalid: 'subscriptionInvalid',
  subscription_not_found: 'subscriptionNotFound',
  subscription_types_empty: 'subscriptionTypesEmpty',
  subscription_types_invalid: 'subscriptionInvalid',
  subscription_types_duplicate: 'subscriptionInvalid',
  event_type_not_found: 'eventTypeNotFound',
  event_type_discontinued: 'eventTypeNotFound',
  schema_version_not_found: 'eventTypeNotFound',
  subscribed_event_not_found: 'notFound',
  schema_not_found: 'schemaNotFound',
} as const satisfies Record<EventStreamsRuleReason, TwilioErrorKind>;

export function twilioErrorOfEventStreamsRule(error: EventStreamsRuleError, path: string): TwilioError {
  const kind: TwilioErrorKind = EVENT_STREAMS_RULE_ERRORS[error.reason];
  return kind === 'notFound' ? TwilioErrors.notFound(path) : twilioError(kind, error.message);
}
