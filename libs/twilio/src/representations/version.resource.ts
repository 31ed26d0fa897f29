import { API_VERSION_PATH } from '../account.resource';
import { ACCOUNTS_LIST_PATH } from '../account-page.envelope';
import { csvTable } from './twilio-csv';
import { twilioResponseXml } from './twilio-xml';
import { uriWithoutExtension } from './representation';

/** `GET /2010-04-01`: the API version and where its one top-level resource lives (no credentials). */
export interface VersionResource {
  name: string;
  uri: string;
  subresource_uris: { accounts: string };
}

export const API_VERSION = API_VERSION_PATH.slice(1);

export function versionResource(): VersionResource {
  return { name: API_VERSION, uri: `${API_VERSION_PATH}.json`, subresource_uris: { accounts: ACCOUNTS_LIST_PATH } };
}

/** As Twilio answers `GET /2010-04-01` (a 2011 capture). */
export function versionXml(version: VersionResource): string {
  return twilioResponseXml({
    name: 'Version',
    children: [
      { name: 'Name', text: version.name },
      { name: 'Uri', text: uriWithoutExtension(version.uri) },
      { name: 'SubresourceUris', children: [{ name: 'Accounts', text: uriWithoutExtension(version.subresource_uris.accounts) }] },
    ],
  });
}

export function versionCsv(version: VersionResource): string {
  return csvTable(['Name', 'Uri'], [[version.name, version.uri]]);
}
