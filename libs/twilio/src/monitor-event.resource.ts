import { accountUri } from './account.resource';
import { trimBaseUrl } from './query-string.util';
import { isAccountSid } from './sid.codec';
import { formatIso8601Seconds } from './twilio-date.format';

export const MONITOR_VERSION_PATH = '/v1';

/** One audit-history row, as the read side hands it to the wire layer. */
export interface MonitorEventView {
  /** `AE…`; see eventSidFromEventId. */
  sid: string;
  accountSid: string;
  /** The authenticating account for API calls; null for operator and system actors. */
  actorSid: string | null;
  /** `account` (API), `operator` (CLI), `system` (cascades). */
  actorType: string;
  description?: string | null;
  /** For `account.updated`: `{ field: { previous, updated } }`. */
  eventData: Record<string, unknown> | null;
  eventDate: Date;
  eventType: string;
  resourceSid: string;
  resourceType: string;
  /** `api`, `cli`, `system`. */
  source: string;
  sourceIpAddress: string | null;
}

export interface MonitorEvent {
  account_sid: string;
  actor_sid: string | null;
  actor_type: string;
  description: string | null;
  event_data: Record<string, unknown> | null;
  event_date: string;
  event_type: string;
  resource_sid: string;
  resource_type: string;
  sid: string;
  source: string;
  source_ip_address: string | null;
  url: string;
  links: { actor: string | null; resource: string | null };
}

export function eventUrl(baseUrl: string, sid: string): string {
  return `${trimBaseUrl(baseUrl)}${MONITOR_VERSION_PATH}/Events/${sid}`;
}

/** Only accounts are addressable on this server; any other actor or resource has no link. */
function accountLink(baseUrl: string, type: string, sid: string | null): string | null {
  return type === 'account' && isAccountSid(sid) ? `${trimBaseUrl(baseUrl)}${accountUri(sid)}` : null;
}

/** `baseUrl` is the scheme and host the request came in on, e.g. `http://127.0.0.1:3000`. */
export function toMonitorEvent(view: MonitorEventView, baseUrl: string): MonitorEvent {
  return {
    account_sid: view.accountSid,
    actor_sid: view.actorSid,
    actor_type: view.actorType,
    description: view.description ?? null,
    event_data: view.eventData,
    event_date: formatIso8601Seconds(view.eventDate),
    event_type: view.eventType,
    resource_sid: view.resourceSid,
    resource_type: view.resourceType,
    sid: view.sid,
    source: view.source,
    source_ip_address: view.sourceIpAddress,
    url: eventUrl(baseUrl, view.sid),
    links: {
      actor: accountLink(baseUrl, view.actorType, view.actorSid),
      resource: accountLink(baseUrl, view.resourceType, view.resourceSid),
    },
  };
}
