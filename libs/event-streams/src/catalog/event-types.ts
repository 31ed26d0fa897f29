import { AccountEventType, type AccountEvent } from '@accountable/accounts';

/**
 * The Event Streams types of account changes: ours, not in Twilio's catalogue (which has no type
 * for account lifecycle; Monitor's `account.*` events are its only record of them). Named as
 * Twilio names its own (`com.twilio.<product>.<resource>.<action>`), under IAM where Twilio keeps
 * account-level types (`com.twilio.iam.ip.blocked`), so subscriptions made with twilio-node look
 * like any other. A type string is a contract with subscribers: fixed forever.
 */
export const StreamEventType = {
  AccountCreated: 'com.twilio.iam.account.created',
  AccountRenamed: 'com.twilio.iam.account.renamed',
  /** Suspended or reactivated; a close has a type of its own (subscribers act on it differently). */
  AccountStatusChanged: 'com.twilio.iam.account.status-changed',
  AccountClosed: 'com.twilio.iam.account.closed',
  AccountUpgraded: 'com.twilio.iam.account.upgraded',
  ApiKeyCreated: 'com.twilio.iam.api-key.created',
  ApiKeyRenamed: 'com.twilio.iam.api-key.renamed',
  ApiKeyDeleted: 'com.twilio.iam.api-key.deleted',
  SecondaryAuthTokenCreated: 'com.twilio.iam.auth-token.secondary-created',
  SecondaryAuthTokenDeleted: 'com.twilio.iam.auth-token.secondary-deleted',
  AuthTokenPromoted: 'com.twilio.iam.auth-token.promoted',
} as const;
export type StreamEventType = (typeof StreamEventType)[keyof typeof StreamEventType];

/** When the catalogue was first published: the types' and schemas' `date_created`. */
const PUBLISHED = new Date('2026-12-05T00:00:00Z');

/** A type as `/v1/Types` shows it; its schema is the latest version of `schemaId` (SCHEMA_VERSIONS). */
export interface EventTypeDefinition {
  /** One of StreamEventType for ours; a string, so the resources can be tested on a catalogue of their own. */
  type: string;
  /** `/v1/Schemas/{Id}`, Twilio's `Product.Name` form. */
  schemaId: string;
  description: string;
  status: 'available' | 'deprecated' | 'restricted' | 'discontinued';
  documentationUrl: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

const T = StreamEventType;
const type = (type: StreamEventType, schemaId: string, description: string): EventTypeDefinition & { type: StreamEventType } => ({
  type,
  schemaId,
  description,
  status: 'available',
  documentationUrl: null,
  dateCreated: PUBLISHED,
  dateUpdated: PUBLISHED,
});

export const EVENT_TYPES: readonly (EventTypeDefinition & { type: StreamEventType })[] = [
  type(T.AccountCreated, 'Iam.AccountCreated', 'A main account or a subaccount was created'),
  type(T.AccountRenamed, 'Iam.AccountRenamed', "An account's friendly name changed"),
  type(T.AccountStatusChanged, 'Iam.AccountStatusChanged', 'An account was suspended or reactivated (by its owner, an operator, or with its owner account)'),
  type(T.AccountClosed, 'Iam.AccountClosed', 'An account was closed, for good'),
  type(T.AccountUpgraded, 'Iam.AccountUpgraded', 'A Trial account became Full'),
  type(T.ApiKeyCreated, 'Iam.ApiKeyCreated', 'An API key was created (never its secret)'),
  type(T.ApiKeyRenamed, 'Iam.ApiKeyRenamed', "An API key's friendly name changed"),
  type(T.ApiKeyDeleted, 'Iam.ApiKeyDeleted', 'An API key was deleted; it no longer authenticates'),
  type(T.SecondaryAuthTokenCreated, 'Iam.SecondaryAuthTokenCreated', 'A secondary auth token was created, or replaced (never the token)'),
  type(T.SecondaryAuthTokenDeleted, 'Iam.SecondaryAuthTokenDeleted', 'The secondary auth token was deleted'),
  type(
    T.AuthTokenPromoted,
    'Iam.AuthTokenPromoted',
    'The secondary auth token became the primary; the previous primary no longer authenticates, nor signs deliveries',
  ),
];

const DEFINITIONS = new Map(EVENT_TYPES.map((definition) => [definition.type, definition]));
export const eventTypeDefinition = (type: string): EventTypeDefinition | undefined => DEFINITIONS.get(type as StreamEventType);

/**
 * The type each account event is delivered as, or null when it is not delivered. A Record over
 * every stored type: a new event type does not compile until it is given one here (and
 * every-stream-event-type.spec.ts holds this to the Monitor entry that gives the `data`).
 */
const TYPE_OF: { [K in AccountEventType]: (event: Extract<AccountEvent, { type: K }>) => StreamEventType | null } = {
  MainAccountCreated: () => T.AccountCreated,
  SubaccountCreated: () => T.AccountCreated,
  // The owner stream's bookkeeping of its subaccounts: the subaccount's own events say it.
  SubaccountAdded: () => null,
  SubaccountReleased: () => null,
  AccountRenamed: () => T.AccountRenamed,
  AccountStatusChanged: (event) => (event.data.status === 'closed' ? T.AccountClosed : T.AccountStatusChanged),
  AccountUpgraded: () => T.AccountUpgraded,
  ApiKeyCreated: () => T.ApiKeyCreated,
  ApiKeyRenamed: () => T.ApiKeyRenamed,
  ApiKeyDeleted: () => T.ApiKeyDeleted,
  SecondaryAuthTokenCreated: () => T.SecondaryAuthTokenCreated,
  SecondaryAuthTokenDeleted: () => T.SecondaryAuthTokenDeleted,
  AuthTokenPromoted: () => T.AuthTokenPromoted,
};

export function streamEventTypeOf(event: AccountEvent): StreamEventType | null {
  return (TYPE_OF[event.type] as (e: AccountEvent) => StreamEventType | null)(event);
}
