import type { ListPaging } from './list-paging';
import { API_VERSION_PATH, toAccountResource, type AccountResource, type AccountView } from './account.resource';
import { withQuery } from './query-string.util';

export interface AccountListFilters {
  FriendlyName?: string;
  Status?: string;
}

export interface AccountPageInput {
  items: readonly AccountView[];
  pageSize: number;
  page: number;
  filters: AccountListFilters;
  /** The token this page was requested with, so `uri` names this exact page. */
  pageToken?: string | null;
  nextToken?: string | null;
  previousToken?: string | null;
}

export interface AccountPage extends ListPaging {
  accounts: AccountResource[];
}

export const ACCOUNTS_LIST_PATH = `${API_VERSION_PATH}/Accounts.json`;

/** Parameter order follows Twilio's own URIs: filters, PageSize, Page, PageToken. */
export function accountListUri(filters: AccountListFilters, pageSize: number, page: number, pageToken?: string | null): string {
  return withQuery(ACCOUNTS_LIST_PATH, [
    ['FriendlyName', filters.FriendlyName],
    ['Status', filters.Status],
    ['PageSize', pageSize],
    ['Page', page],
    ['PageToken', pageToken],
  ]);
}

/**
 * `end` on an empty page equals `start` (Twilio's empty list reports start 0, end 0), so
 * `end` never falls below `start`. A page past the end still has a page before it: with no row
 * to anchor a token there, its previous_page_uri is the offset page `Page - 1` (no PageToken).
 */
export function toAccountPage(input: AccountPageInput): AccountPage {
  const { items, pageSize, page, filters } = input;
  const start = page * pageSize;
  return {
    accounts: items.map(toAccountResource),
    end: items.length > 0 ? start + items.length - 1 : start,
    first_page_uri: accountListUri(filters, pageSize, 0),
    next_page_uri: input.nextToken ? accountListUri(filters, pageSize, page + 1, input.nextToken) : null,
    page,
    page_size: pageSize,
    previous_page_uri: input.previousToken
      ? accountListUri(filters, pageSize, Math.max(page - 1, 0), input.previousToken)
      : items.length === 0 && page > 0
        ? accountListUri(filters, pageSize, page - 1)
        : null,
    start,
    uri: accountListUri(filters, pageSize, page, input.pageToken),
  };
}
