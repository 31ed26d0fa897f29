import type { ListPaging } from './list-paging';
import { API_VERSION_PATH } from './account.resource';
import { withQuery } from './query-string.util';
import { formatRfc2822 } from './twilio-date.format';

export interface ApiKeyView {
  sid: string;
  accountSid: string;
  friendlyName: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

/** Fetch, list and update: exactly these keys (CREDENTIALS.md §1). */
export interface ApiKeyResource {
  sid: string;
  friendly_name: string | null;
  date_created: string;
  date_updated: string;
}

/** Create only (201): the secret, shown this once. */
export interface NewApiKeyResource extends ApiKeyResource {
  secret: string;
}

/** `Keys` and `SigningKeys` are one resource under two names (LIVE Test 5). */
export type ApiKeyCollection = 'Keys' | 'SigningKeys';

export interface ApiKeyPage extends ListPaging {
  /** `keys` or `signing_keys`, the collection's list key. */
  [list: string]: ApiKeyResource[] | number | string | null;
}

export function toApiKeyResource(view: ApiKeyView): ApiKeyResource {
  return {
    sid: view.sid,
    friendly_name: view.friendlyName,
    date_created: formatRfc2822(view.dateCreated),
    date_updated: formatRfc2822(view.dateUpdated),
  };
}

export function toNewApiKeyResource(view: ApiKeyView, secret: string): NewApiKeyResource {
  return { ...toApiKeyResource(view), secret };
}

function keyListUri(collection: ApiKeyCollection, accountSid: string, pageSize: number, page: number): string {
  return withQuery(`${API_VERSION_PATH}/Accounts/${accountSid}/${collection}.json`, [
    ['PageSize', pageSize],
    ['Page', page],
  ]);
}

/** Offset pages: an account has at most a hundred keys, so no page token is needed. */
export function toApiKeyPage(input: {
  collection: ApiKeyCollection;
  accountSid: string;
  items: readonly ApiKeyView[];
  pageSize: number;
  page: number;
  hasNext: boolean;
}): ApiKeyPage {
  const { collection, accountSid, items, pageSize, page } = input;
  const start = page * pageSize;
  return {
    [collection === 'Keys' ? 'keys' : 'signing_keys']: items.map(toApiKeyResource),
    end: items.length > 0 ? start + items.length - 1 : start,
    first_page_uri: keyListUri(collection, accountSid, pageSize, 0),
    next_page_uri: input.hasNext ? keyListUri(collection, accountSid, pageSize, page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? keyListUri(collection, accountSid, pageSize, page - 1) : null,
    start,
    uri: keyListUri(collection, accountSid, pageSize, page),
  };
}
