import { AccountRuleError, type AccountRuleReason } from '@accountable/accounts';
import { RULE_ERRORS, twilioErrorOfRule } from './rule-errors';

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
