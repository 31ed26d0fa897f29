import type { ApiKeyPage, ApiKeyResource, NewApiKeyResource } from '../api-key.resource';
import { csvTable } from './twilio-csv';
import { pageListXml, twilioResponseXml, type XmlElement } from './twilio-xml';

/** JSON key → XML element and CSV column, in the spec's field order; `Secret` on creation only. */
export const API_KEY_XML_NAMES: Readonly<Record<keyof NewApiKeyResource, string>> = {
  sid: 'Sid',
  friendly_name: 'FriendlyName',
  date_created: 'DateCreated',
  date_updated: 'DateUpdated',
  secret: 'Secret',
};

const KEY_FIELDS = ['sid', 'friendly_name', 'date_created', 'date_updated'] as const satisfies readonly (keyof ApiKeyResource)[];
const fieldsOf = (key: ApiKeyResource): (keyof NewApiKeyResource)[] => ('secret' in key ? [...KEY_FIELDS, 'secret'] : [...KEY_FIELDS]);

/** `<Key>` on both paths (our choice: there is no capture of Twilio's XML for keys). */
function keyElement(key: ApiKeyResource): XmlElement {
  return { name: 'Key', children: fieldsOf(key).map((field) => ({ name: API_KEY_XML_NAMES[field], text: (key as NewApiKeyResource)[field] })) };
}

export function apiKeyXml(key: ApiKeyResource): string {
  return twilioResponseXml(keyElement(key));
}

/** `<Keys page pagesize start end uri firstpageuri previouspageuri nextpageuri>`, as Accounts' list; SigningKeys too. */
export function apiKeyPageXml(page: ApiKeyPage): string {
  const signing = Array.isArray(page.signing_keys);
  const items = (signing ? page.signing_keys : page.keys) as ApiKeyResource[];
  return pageListXml('Keys', page, items.map(keyElement));
}

export function apiKeysCsv(keys: readonly ApiKeyResource[]): string {
  const fields = keys.length > 0 ? fieldsOf(keys[0]) : [...KEY_FIELDS];
  return csvTable(
    fields.map((field) => API_KEY_XML_NAMES[field]),
    keys.map((key) => fields.map((field) => (key as NewApiKeyResource)[field])),
  );
}

export function apiKeyCsv(key: ApiKeyResource): string {
  return apiKeysCsv([key]);
}

export function apiKeyPageCsv(page: ApiKeyPage): string {
  return apiKeysCsv((Array.isArray(page.signing_keys) ? page.signing_keys : page.keys) as ApiKeyResource[]);
}
