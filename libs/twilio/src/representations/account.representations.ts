import type { AccountPage } from '../account-page.envelope';
import type { AccountResource, SubresourceName } from '../account.resource';
import { csvTable } from './twilio-csv';
import { pageListXml, twilioResponseXml, type XmlElement } from './twilio-xml';
import { uriWithoutExtension } from './representation';

/**
 * JSON key → XML element and CSV column, in the order Twilio's 2010 Account example lists them
 * (OwnerAccountSid, which it lacks, after FriendlyName). An explicit table, not a case
 * conversion: Twilio's names are not mechanical (`SMSMessages` for `/SMS/Messages`). The Record
 * type makes a key added to AccountResource a compile error here until it has a name.
 */
export const ACCOUNT_XML_NAMES: Readonly<Record<keyof AccountResource, string>> = {
  sid: 'Sid',
  friendly_name: 'FriendlyName',
  owner_account_sid: 'OwnerAccountSid',
  type: 'Type',
  status: 'Status',
  date_created: 'DateCreated',
  date_updated: 'DateUpdated',
  auth_token: 'AuthToken',
  uri: 'Uri',
  subresource_uris: 'SubresourceUris',
};

/** Our choice where no capture exists: the path's last segment (`SMS/ShortCodes` → `ShortCodes`). */
export const SUBRESOURCE_XML_NAMES: Readonly<Record<SubresourceName, string>> = {
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
  short_codes: 'ShortCodes',
  queues: 'Queues',
  messages: 'Messages',
  balance: 'Balance',
};

const ACCOUNT_KEYS = Object.keys(ACCOUNT_XML_NAMES) as (keyof AccountResource)[];

function accountElement(account: AccountResource): XmlElement {
  return {
    name: 'Account',
    children: ACCOUNT_KEYS.map((key): XmlElement => {
      const name = ACCOUNT_XML_NAMES[key];
      if (key === 'subresource_uris') {
        return {
          name,
          children: (Object.keys(SUBRESOURCE_XML_NAMES) as SubresourceName[]).map((sub) => ({
            name: SUBRESOURCE_XML_NAMES[sub],
            text: uriWithoutExtension(account.subresource_uris[sub]),
          })),
        };
      }
      const value = account[key];
      return { name, text: key === 'uri' ? uriWithoutExtension(value as string) : (value as string) };
    }),
  };
}

export function accountXml(account: AccountResource): string {
  return twilioResponseXml(accountElement(account));
}

/** `<Accounts …>` with the paging attributes (pageListXml). */
export function accountPageXml(page: AccountPage): string {
  return pageListXml('Accounts', page, page.accounts.map(accountElement));
}

/**
 * The CSV columns: every account field but SubresourceUris (a map of twenty URIs, each the
 * account's Uri plus a fixed name, has no cell to go in). `Uri` is the JSON one, `.json` and all,
 * as Twilio's own CSV example shows.
 */
const CSV_KEYS = ACCOUNT_KEYS.filter((key): key is Exclude<keyof AccountResource, 'subresource_uris'> => key !== 'subresource_uris');
export const ACCOUNT_CSV_HEADER: readonly string[] = CSV_KEYS.map((key) => ACCOUNT_XML_NAMES[key]);

/** One row per account; a list carries no paging data (follow the JSON or XML page URIs for that). */
export function accountsCsv(accounts: readonly AccountResource[]): string {
  return csvTable(ACCOUNT_CSV_HEADER, accounts.map((account) => CSV_KEYS.map((key) => account[key])));
}

export function accountCsv(account: AccountResource): string {
  return accountsCsv([account]);
}

export function accountPageCsv(page: AccountPage): string {
  return accountsCsv(page.accounts);
}
