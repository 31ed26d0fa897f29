/**
 * The account event contract. `type` strings are stored and therefore fixed forever; a change to a
 * data shape bumps its SCHEMA_VERSION and ships an upcaster, stored events are never rewritten.
 * Times are not part of the data: the store's `recordedAt` is the one clock (see account.state.ts).
 */

/** One stream per account. */
export const ACCOUNT_STREAM_PREFIX = 'account-';
export const accountStreamId = (sid: string): string => `${ACCOUNT_STREAM_PREFIX}${sid}`;

export const AccountEventType = {
  MainAccountCreated: 'MainAccountCreated',
  SubaccountCreated: 'SubaccountCreated',
  /**
   * On the owner's stream, in the same append as SubaccountCreated: the owner's expected version
   * serialises concurrent creates, so the log itself enforces the subaccount limit.
   */
  SubaccountAdded: 'SubaccountAdded',
  /** On the owner's stream when a subaccount closes: closed subaccounts no longer count towards the limit. */
  SubaccountReleased: 'SubaccountReleased',
  AccountRenamed: 'AccountRenamed',
  AccountStatusChanged: 'AccountStatusChanged',
  AccountUpgraded: 'AccountUpgraded',
  /** API keys (v2010 Keys) live on their account's stream: the cap and replay come with it. */
  ApiKeyCreated: 'ApiKeyCreated',
  ApiKeyRenamed: 'ApiKeyRenamed',
  ApiKeyDeleted: 'ApiKeyDeleted',
  /** A second auth token that authenticates like the primary; at most one (a new one replaces it). */
  SecondaryAuthTokenCreated: 'SecondaryAuthTokenCreated',
  SecondaryAuthTokenDeleted: 'SecondaryAuthTokenDeleted',
  /** The secondary becomes the primary; the old primary is gone. */
  AuthTokenPromoted: 'AuthTokenPromoted',
} as const;
export type AccountEventType = (typeof AccountEventType)[keyof typeof AccountEventType];

/** Current data schema of each event type; upcasters lift older stored versions to these. */
export const SCHEMA_VERSION: Readonly<Record<AccountEventType, number>> = Object.freeze({
  MainAccountCreated: 1,
  SubaccountCreated: 1,
  SubaccountAdded: 1,
  SubaccountReleased: 1,
  AccountRenamed: 1,
  AccountStatusChanged: 1,
  AccountUpgraded: 1,
  ApiKeyCreated: 1,
  ApiKeyRenamed: 1,
  ApiKeyDeleted: 1,
  SecondaryAuthTokenCreated: 1,
  SecondaryAuthTokenDeleted: 1,
  AuthTokenPromoted: 1,
});

export type AccountType = 'Trial' | 'Full';
export const ACCOUNT_TYPES: readonly AccountType[] = ['Trial', 'Full'];
export const isAccountType = (value: unknown): value is AccountType => ACCOUNT_TYPES.includes(value as AccountType);

/** The source of truth for statuses; libs/twilio repeats it for the wire, held to it in apps/api. */
export const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export const isAccountStatus = (value: unknown): value is AccountStatus =>
  ACCOUNT_STATUSES.includes(value as AccountStatus);

/**
 * - `requested`: an API call by the owning main account
 * - `operator`: the CLI, on a main account
 * - `owner_suspended` / `owner_reactivated`: the cascade from a main account's suspension
 * - `owner_closed`: the cascade from a main account's closure
 */
export const STATUS_CHANGE_REASONS = ['requested', 'operator', 'owner_suspended', 'owner_reactivated', 'owner_closed'] as const;
export type StatusChangeReason = (typeof STATUS_CHANGE_REASONS)[number];

interface DomainEvent<TType extends AccountEventType, TData> {
  readonly type: TType;
  readonly data: Readonly<TData>;
}

export type MainAccountCreated = DomainEvent<
  'MainAccountCreated',
  {
    sid: string;
    friendlyName: string;
    type: AccountType;
    /** Opaque: encrypted by the caller, the domain never sees the plain token. */
    authToken: string;
  }
>;

export type SubaccountCreated = DomainEvent<
  'SubaccountCreated',
  {
    sid: string;
    ownerAccountSid: string;
    friendlyName: string;
    type: AccountType;
    authToken: string;
  }
>;

export type SubaccountAdded = DomainEvent<'SubaccountAdded', { subaccountSid: string }>;

export type SubaccountReleased = DomainEvent<'SubaccountReleased', { subaccountSid: string }>;

export type AccountRenamed = DomainEvent<'AccountRenamed', { previous: string; friendlyName: string }>;

export type AccountStatusChanged = DomainEvent<
  'AccountStatusChanged',
  { previous: AccountStatus; status: AccountStatus; reason: StatusChangeReason }
>;

export type AccountUpgraded = DomainEvent<'AccountUpgraded', { previous: 'Trial'; type: 'Full' }>;

export type ApiKeyCreated = DomainEvent<
  'ApiKeyCreated',
  {
    keySid: string;
    friendlyName: string | null;
    /** Never the secret: a salted keyed hash of it (libs/secrets apiKeySecretVerifier). */
    secretVerifier: string;
  }
>;

export type ApiKeyRenamed = DomainEvent<'ApiKeyRenamed', { keySid: string; previous: string | null; friendlyName: string | null }>;

export type ApiKeyDeleted = DomainEvent<'ApiKeyDeleted', { keySid: string; friendlyName: string | null }>;

export type SecondaryAuthTokenCreated = DomainEvent<
  'SecondaryAuthTokenCreated',
  {
    /** Sealed by the caller, as the creation events' authToken. */
    authToken: string;
    /** True when it replaced a secondary token that existed. */
    replaced: boolean;
  }
>;

export type SecondaryAuthTokenDeleted = DomainEvent<'SecondaryAuthTokenDeleted', Record<string, never>>;

/** No data: the token promoted is the secondary the stream holds at this version. */
export type AuthTokenPromoted = DomainEvent<'AuthTokenPromoted', Record<string, never>>;

export type AccountEvent =
  | MainAccountCreated
  | SubaccountCreated
  | SubaccountAdded
  | SubaccountReleased
  | AccountRenamed
  | AccountStatusChanged
  | AccountUpgraded
  | ApiKeyCreated
  | ApiKeyRenamed
  | ApiKeyDeleted
  | SecondaryAuthTokenCreated
  | SecondaryAuthTokenDeleted
  | AuthTokenPromoted;

const EVENT_TYPES: ReadonlySet<string> = new Set(Object.values(AccountEventType));

/** Narrows a stored event (any `{type, data}` shape) to an account event by its type string. */
export const isAccountEvent = <E extends { readonly type: string }>(event: E): event is E & AccountEvent =>
  EVENT_TYPES.has(event.type);
