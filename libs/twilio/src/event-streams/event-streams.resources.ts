import { formatIso8601Seconds } from '../twilio-date.format';
import type { V1PageMeta } from '../list-paging';
import { trimBaseUrl, withQuery } from '../query-string.util';

/**
 * Twilio Event Streams (events.twilio.com/v1) resources, exactly the keys of Twilio's OpenAPI
 * (`events.v1.*`). URLs are absolute, on the service's public base URL, as Monitor's are.
 */
const V1 = '/v1';

export interface SinkView {
  sid: string;
  description: string;
  sinkType: string;
  sinkConfiguration: object;
  status: string;
  dateCreated: Date;
  dateUpdated: Date;
}

/** No `account_sid`: Twilio's sink has none (EVENT-STREAMS.md §1). */
export interface SinkResource {
  date_created: string;
  date_updated: string;
  description: string;
  sid: string;
  sink_configuration: object;
  sink_type: string;
  status: string;
  url: string;
  links: { sink_test: string; sink_validate: string };
}

export function toSinkResource(view: SinkView, baseUrl: string): SinkResource {
  const url = `${trimBaseUrl(baseUrl)}${V1}/Sinks/${view.sid}`;
  return {
    date_created: formatIso8601Seconds(view.dateCreated),
    date_updated: formatIso8601Seconds(view.dateUpdated),
    description: view.description,
    sid: view.sid,
    sink_configuration: view.sinkConfiguration,
    sink_type: view.sinkType,
    status: view.status,
    url,
    links: { sink_test: `${url}/Test`, sink_validate: `${url}/Validate` },
  };
}

export interface SubscriptionView {
  sid: string;
  accountSid: string;
  sinkSid: string;
  description: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface SubscriptionResource {
  account_sid: string;
  date_created: string;
  date_updated: string;
  description: string;
  sid: string;
  sink_sid: string;
  url: string;
  links: { subscribed_events: string };
}

export function toSubscriptionResource(view: SubscriptionView, baseUrl: string): SubscriptionResource {
  const url = `${trimBaseUrl(baseUrl)}${V1}/Subscriptions/${view.sid}`;
  return {
    account_sid: view.accountSid,
    date_created: formatIso8601Seconds(view.dateCreated),
    date_updated: formatIso8601Seconds(view.dateUpdated),
    description: view.description,
    sid: view.sid,
    sink_sid: view.sinkSid,
    url,
    links: { subscribed_events: `${url}/SubscribedEvents` },
  };
}

export interface SubscribedEventView {
  accountSid: string;
  subscriptionSid: string;
  type: string;
  schemaVersion: number;
}

export interface SubscribedEventResource {
  account_sid: string;
  type: string;
  schema_version: number;
  subscription_sid: string;
  url: string;
}

export function toSubscribedEventResource(view: SubscribedEventView, baseUrl: string): SubscribedEventResource {
  return {
    account_sid: view.accountSid,
    type: view.type,
    schema_version: view.schemaVersion,
    subscription_sid: view.subscriptionSid,
    url: `${trimBaseUrl(baseUrl)}${V1}/Subscriptions/${view.subscriptionSid}/SubscribedEvents/${encodeURIComponent(view.type)}`,
  };
}

export interface EventTypeView {
  type: string;
  schemaId: string;
  description: string;
  status: string;
  documentationUrl: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface EventTypeResource {
  date_created: string;
  date_updated: string;
  type: string;
  schema_id: string;
  status: string;
  documentation_url: string | null;
  description: string;
  url: string;
  links: { schema: string };
}

export function toEventTypeResource(view: EventTypeView, baseUrl: string): EventTypeResource {
  const base = trimBaseUrl(baseUrl);
  return {
    date_created: formatIso8601Seconds(view.dateCreated),
    date_updated: formatIso8601Seconds(view.dateUpdated),
    type: view.type,
    schema_id: view.schemaId,
    status: view.status,
    documentation_url: view.documentationUrl,
    description: view.description,
    url: `${base}${V1}/Types/${encodeURIComponent(view.type)}`,
    // Twilio's own examples link the schema's versions list.
    links: { schema: `${base}${V1}/Schemas/${encodeURIComponent(view.schemaId)}/Versions` },
  };
}

export interface SchemaVersionView {
  schemaId: string;
  version: number;
  dateCreated: Date;
  /** Where the JSON Schema document is served (ours: `…/Versions/{N}/Raw`; Twilio's: events-schemas.twilio.com). */
  raw: string;
}

export interface SchemaVersionResource {
  id: string;
  schema_version: number;
  date_created: string;
  url: string;
  raw: string;
}

export function toSchemaVersionResource(view: SchemaVersionView, baseUrl: string): SchemaVersionResource {
  return {
    id: view.schemaId,
    schema_version: view.version,
    date_created: formatIso8601Seconds(view.dateCreated),
    url: `${trimBaseUrl(baseUrl)}${V1}/Schemas/${encodeURIComponent(view.schemaId)}/Versions/${view.version}`,
    raw: view.raw,
  };
}

export interface SchemaResource {
  id: string;
  url: string;
  links: { versions: string };
  latest_version_date_created: string;
  latest_version: number;
}

export function toSchemaResource(schemaId: string, latest: Pick<SchemaVersionView, 'version' | 'dateCreated'>, baseUrl: string): SchemaResource {
  const url = `${trimBaseUrl(baseUrl)}${V1}/Schemas/${encodeURIComponent(schemaId)}`;
  return {
    id: schemaId,
    url,
    links: { versions: `${url}/Versions` },
    latest_version_date_created: formatIso8601Seconds(latest.dateCreated),
    latest_version: latest.version,
  };
}

/** The v1 list envelope: the items under `key`, and the paging. */
export type V1List<K extends string, T> = { meta: V1PageMeta<K> } & { [P in K]: T[] };

export interface V1PageInput<T> {
  key: string;
  items: readonly T[];
  baseUrl: string;
  /** The list's path under /v1, e.g. `/Sinks`. */
  path: string;
  /** Filters echoed into every page URL, in this order. */
  filters: ReadonlyArray<readonly [string, string | undefined]>;
  page: number;
  pageSize: number;
  hasNext: boolean;
}

/** Offset pages (`Page` × `PageSize`): every list here is small and bounded per account. */
export function toV1Page<K extends string, T>(input: V1PageInput<T> & { key: K }): V1List<K, T> {
  const pageUrl = (page: number) =>
    withQuery(`${trimBaseUrl(input.baseUrl)}${V1}${input.path}`, [...input.filters, ['PageSize', input.pageSize], ['Page', page]]);
  return {
    [input.key]: [...input.items],
    meta: {
      page: input.page,
      page_size: input.pageSize,
      first_page_url: pageUrl(0),
      previous_page_url: input.page > 0 ? pageUrl(input.page - 1) : null,
      url: pageUrl(input.page),
      next_page_url: input.hasNext ? pageUrl(input.page + 1) : null,
      key: input.key,
    },
  } as V1List<K, T>;
}
