import { AccountRuleError, type AccountRuleReason } from '@accountable/accounts';
import { EventStreamsRuleError, type EventStreamsRuleReason } from '@accountable/event-streams';
import { EVENT_STREAMS_RULE_ERRORS, RULE_ERRORS, twilioErrorOfEventStreamsRule, twilioErrorOfRule } from './rule-errors';

/** shared/twilio/COMPAT.md, rule by rule; 400 20002 where Twilio documents no number. */
const EXPECTED: Record<AccountRuleReason, [status: number, code: number]> = {
  account_exists: [400, 20002],
  account_not_found: [404, 20404],
  account_not_active: [400, 20002],
  account_closed: [400, 21479],
  friendly_name_invalid: [400, 20002],
  not_main_account: [400, 21101],
  subaccount_limit: [400, 21480],
  main_status_change: [400, 21477],
  self_status_change: [403, 20006],
  owner_suspended: [400, 21476],
  operator_main_only: [400, 20002],
  already_full: [400, 20002],
  invalid_transition: [400, 20002],
  api_key_name_invalid: [400, 70001],
  api_key_not_found: [404, 20404],
  api_key_limit: [400, 70151],
  secondary_auth_token_not_found: [404, 20404],
};

describe('rule errors at the edge', () => {
  it.each(Object.entries(EXPECTED))('%s → %j', (reason, [status, code]) => {
    const error = twilioErrorOfRule(new AccountRuleError(reason as AccountRuleReason, 'the rule says no'), '/2010-04-01/Accounts/AC1.json');
    expect([error.status, error.code]).toEqual([status, code]);
  });

  it('the table maps every reason and nothing else', () => {
    expect(Object.keys(RULE_ERRORS).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it("keeps the domain's message; a missing account names the path asked for", () => {
    expect(twilioErrorOfRule(new AccountRuleError('account_closed', 'Account AC1 is closed'), '/x').message).toBe('Account AC1 is closed');
    expect(twilioErrorOfRule(new AccountRuleError('account_not_found', 'The account does not exist'), '/2010-04-01/Accounts/AC1.json').message).toBe(
      'The requested resource /2010-04-01/Accounts/AC1.json was not found',
    );
  });
});

/** EVENT-STREAMS.md §7 (ERRDICT's Events codes); not found 404, the rest 400 (INFERENCE there). */
const EVENT_STREAMS_EXPECTED: Record<EventStreamsRuleReason, [status: number, code: number]> = {
  sink_configuration_invalid: [400, 91000],
  sink_type_unsupported: [400, 91000],
  sink_description_invalid: [400, 91000],
  sink_destination_refused: [400, 91000],
  sink_not_found: [404, 91001],
  sink_sid_invalid: [400, 91006],
  sink_limit: [400, 91003],
  sink_in_use: [400, 91007],
  sink_not_active: [400, 91100],
  test_not_found: [400, 91004],
  test_id_invalid: [400, 91005],
  subscription_description_invalid: [400, 91101],
  subscription_not_found: [404, 91102],
  subscription_types_empty: [400, 91103],
  subscription_types_invalid: [400, 91101],
  subscription_types_duplicate: [400, 91101],
  event_type_not_found: [400, 91104],
  event_type_discontinued: [400, 91104],
  schema_version_not_found: [400, 91104],
  subscribed_event_not_found: [404, 20404],
  schema_not_found: [404, 91202],
};

describe('Event Streams rule errors at the edge', () => {
  it.each(Object.entries(EVENT_STREAMS_EXPECTED))('%s → %j', (reason, [status, code]) => {
    const error = twilioErrorOfEventStreamsRule(new EventStreamsRuleError(reason as EventStreamsRuleReason, 'no'), '/v1/Sinks/DG1');
    expect([error.status, error.code]).toEqual([status, code]);
  });

  it('the table maps every reason and nothing else', () => {
    expect(Object.keys(EVENT_STREAMS_RULE_ERRORS).sort()).toEqual(Object.keys(EVENT_STREAMS_EXPECTED).sort());
  });
});
