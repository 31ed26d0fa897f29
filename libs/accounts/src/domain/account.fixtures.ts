/**
 * Test support for the domain specs (kept free of jest so it type-checks with the library).
 * `given(...events)` folds a history; the builders keep each spec to the facts that matter.
 */
import { AccountRuleError } from './account.errors';
import {
  AccountEventType,
  type AccountEvent,
  type AccountStatus,
  type AccountStatusChanged,
  type AccountType,
  type MainAccountCreated,
  type StatusChangeReason,
  type SubaccountCreated,
} from './account.events';
import { fold, type AccountState } from './account.state';

export const MAIN_SID = 'AC' + '1'.repeat(32);
export const SUB_SID = 'AC' + '2'.repeat(32);
export const OTHER_SUB_SID = 'AC' + '3'.repeat(32);

export const given = (...events: AccountEvent[]): AccountState => fold(events);

export const mainAccountCreated = (type: AccountType = 'Full', sid = MAIN_SID): MainAccountCreated => ({
  type: AccountEventType.MainAccountCreated,
  data: { sid, friendlyName: 'Main', type, authToken: 'enc:main' },
});

export const subaccountCreated = (
  sid = SUB_SID,
  ownerAccountSid = MAIN_SID,
  type: AccountType = 'Full',
): SubaccountCreated => ({
  type: AccountEventType.SubaccountCreated,
  data: { sid, ownerAccountSid, friendlyName: 'Sub', type, authToken: 'enc:sub' },
});

export const subaccountAdded = (subaccountSid = SUB_SID): AccountEvent => ({
  type: AccountEventType.SubaccountAdded,
  data: { subaccountSid },
});

export const subaccountReleased = (subaccountSid = SUB_SID): AccountEvent => ({
  type: AccountEventType.SubaccountReleased,
  data: { subaccountSid },
});

export const statusChanged = (
  previous: AccountStatus,
  status: AccountStatus,
  reason: StatusChangeReason = 'requested',
): AccountStatusChanged => ({ type: AccountEventType.AccountStatusChanged, data: { previous, status, reason } });

/** Runs `when` and returns the rule error it threw; throws if it threw nothing or something else. */
export function ruleErrorOf(when: () => unknown): AccountRuleError {
  try {
    when();
  } catch (error) {
    if (error instanceof AccountRuleError) return error;
    throw error;
  }
  throw new Error('expected an AccountRuleError, nothing was thrown');
}
