import type { V1PageMeta } from './list-paging';
import { MONITOR_VERSION_PATH, type MonitorEvent } from './monitor-event.resource';
import { trimBaseUrl, withQuery } from './query-string.util';

/** Raw query values, echoed back into page URLs exactly as the client sent them. */
export interface EventListFilters {
  ActorSid?: string;
  EventType?: string;
  ResourceSid?: string;
  SourceIpAddress?: string;
  StartDate?: string;
  EndDate?: string;
}

export interface EventsPageInput {
  events: readonly MonitorEvent[];
  page: number;
  pageSize: number;
  url: string;
  firstPageUrl: string;
  nextPageUrl: string | null;
  previousPageUrl: string | null;
}

export interface EventsPage {
  events: MonitorEvent[];
  meta: V1PageMeta<'events'>;
}

/** Parameter order follows the spec's example URLs. */
export function eventsListUrl(
  baseUrl: string,
  filters: EventListFilters,
  pageSize: number,
  page: number,
  pageToken?: string | null,
): string {
  return withQuery(`${trimBaseUrl(baseUrl)}${MONITOR_VERSION_PATH}/Events`, [
    ['StartDate', filters.StartDate],
    ['SourceIpAddress', filters.SourceIpAddress],
    ['EndDate', filters.EndDate],
    ['ActorSid', filters.ActorSid],
    ['EventType', filters.EventType],
    ['ResourceSid', filters.ResourceSid],
    ['PageSize', pageSize],
    ['Page', page],
    ['PageToken', pageToken],
  ]);
}

export interface EventsPageUrlsInput {
  baseUrl: string;
  filters: EventListFilters;
  pageSize: number;
  page: number;
  pageToken?: string | null;
  nextToken?: string | null;
  previousToken?: string | null;
}

export function eventsPageUrls(input: EventsPageUrlsInput): Pick<EventsPageInput, 'url' | 'firstPageUrl' | 'nextPageUrl' | 'previousPageUrl'> {
  const { baseUrl, filters, pageSize, page } = input;
  return {
    url: eventsListUrl(baseUrl, filters, pageSize, page, input.pageToken),
    firstPageUrl: eventsListUrl(baseUrl, filters, pageSize, 0),
    nextPageUrl: input.nextToken ? eventsListUrl(baseUrl, filters, pageSize, page + 1, input.nextToken) : null,
    previousPageUrl: input.previousToken
      ? eventsListUrl(baseUrl, filters, pageSize, Math.max(page - 1, 0), input.previousToken)
      : null,
  };
}

export function toEventsPage(input: EventsPageInput): EventsPage {
  return {
    events: [...input.events],
    meta: {
      page: input.page,
      page_size: input.pageSize,
      first_page_url: input.firstPageUrl,
      previous_page_url: input.previousPageUrl,
      url: input.url,
      next_page_url: input.nextPageUrl,
      key: 'events',
    },
  };
}
