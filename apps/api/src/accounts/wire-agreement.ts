import type { ACCOUNT_STATUSES as DOMAIN_ACCOUNT_STATUSES, AccountType as DomainAccountType } from '@accountable/accounts';
import type { ACCOUNT_STATUSES as WIRE_ACCOUNT_STATUSES, AccountType as WireAccountType } from '@accountable/twilio';

/**
 * libs/twilio is a standalone wire library (it imports no other library), so it repeats the
 * domain's account statuses and types instead of importing them; the domain's are the source of
 * truth. This layer sees both, and holds them together at compile time: a status added, dropped
 * or reordered on one side only fails `tsc` here, before the parser could refuse a status the
 * domain stores (or hand the domain one it does not know).
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Holds<T extends true> = T;

export type WireAgreesWithDomain = [
  Holds<Same<typeof WIRE_ACCOUNT_STATUSES, typeof DOMAIN_ACCOUNT_STATUSES>>,
  Holds<Same<WireAccountType, DomainAccountType>>,
];
