import { formatRfc2822 } from './twilio-date.format';

export const API_VERSION_PATH = '/2010-04-01';

/**
 * The wire's copy of the domain's statuses (libs/accounts' account.events.ts is the source of
 * truth): this library imports no other, so apps/api, which sees both, holds the two to each other
 * at compile time (accounts/wire-agreement.ts). The type is the list's, so neither can drift alone.
 */
export const ACCOUNT_STATUSES = ['active', 'suspended', 'closed'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];
export type AccountType = 'Trial' | 'Full';

/** What the read side hands to the wire layer; `authToken` is already decrypted. */
export interface AccountView {
  sid: string;
  ownerAccountSid: string;
  friendlyName: string;
  status: AccountStatus;
  type: AccountType;
  authToken: string;
  dateCreated: Date;
  dateUpdated: Date;
}

/** The v2010 account JSON, key for key (COMPAT.md: exactly these keys). */
export interface AccountResource {
  auth_token: string;
  date_created: string;
  date_updated: string;
  friendly_name: string;
  owner_account_sid: string;
  sid: string;
  status: AccountStatus;
  subresource_uris: Record<SubresourceName, string>;
  type: AccountType;
  uri: string;
}

/** Names and paths exactly as the spec example, in its order. */
export const ACCOUNT_SUBRESOURCES = {
  available_phone_numbers: 'AvailablePhoneNumbers',
  calls: 'Calls',
  conferences: 'Conferences',
  incoming_phone_numbers: 'IncomingPhoneNumbers',
  notifications: 'Notifications',
  outgoing_caller_ids: 'OutgoingCallerIds',
  recordings: 'Recordings',
  transcriptions: 'Transcriptions',
  addresses: 'Addresses',
  signing_keys: 'SigningKeys',
  connect_apps: 'ConnectApps',
  sip: 'SIP',
  authorized_connect_apps: 'AuthorizedConnectApps',
  usage: 'Usage',
  keys: 'Keys',
  applications: 'Applications',
  short_codes: 'SMS/ShortCodes',
  queues: 'Queues',
  messages: 'Messages',
  balance: 'Balance',
} as const;

export type SubresourceName = keyof typeof ACCOUNT_SUBRESOURCES;

/** Host-relative, as v2010 `uri` fields are. */
export function accountUri(sid: string): string {
  return `${API_VERSION_PATH}/Accounts/${sid}.json`;
}

export function accountSubresourceUris(sid: string): Record<SubresourceName, string> {
  const uris = {} as Record<SubresourceName, string>;
  for (const [name, path] of Object.entries(ACCOUNT_SUBRESOURCES) as [SubresourceName, string][]) {
    uris[name] = `${API_VERSION_PATH}/Accounts/${sid}/${path}.json`;
  }
  return uris;
}

export function toAccountResource(view: AccountView): AccountResource {
  return {
    auth_token: view.authToken,
    date_created: formatRfc2822(view.dateCreated),
    date_updated: formatRfc2822(view.dateUpdated),
    friendly_name: view.friendlyName,
    owner_account_sid: view.ownerAccountSid,
    sid: view.sid,
    status: view.status,
    subresource_uris: accountSubresourceUris(view.sid),
    type: view.type,
    uri: accountUri(view.sid),
  };
}

const STRING = { type: 'string' } as const;

/**
 * AccountResource as a JSON Schema, for Fastify's response serializer (fast-json-stringify, which
 * writes a known shape faster than JSON.stringify): every property in toAccountResource's order,
 * so that the bytes are JSON.stringify's (apps/api's account-fetch spec compares them). A property
 * missing here would be dropped from the answer: add it here with the interface.
 */
export const ACCOUNT_RESOURCE_JSON_SCHEMA = {
  type: 'object',
  properties: {
    auth_token: STRING,
    date_created: STRING,
    date_updated: STRING,
    friendly_name: STRING,
    owner_account_sid: STRING,
    sid: STRING,
    status: STRING,
    subresource_uris: {
      type: 'object',
      properties: Object.fromEntries(Object.keys(ACCOUNT_SUBRESOURCES).map((name) => [name, STRING])),
    },
    type: STRING,
    uri: STRING,
  },
} as const;
