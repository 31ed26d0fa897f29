import { auditEntryOf, isAccountEvent, type AuditEntry } from '@accountable/accounts';
import type { RecordedEvent } from '@accountable/event-store';
import { accountUri, toMonitorEvent, type MonitorEvent } from '@accountable/twilio';
import { latestSchemaVersion, schemaRawUrl } from './event-schemas';
import { eventTypeDefinition, streamEventTypeOf, type EventTypeDefinition } from './event-types';

/**
 * A CloudEvents 1.0 event in its JSON format, as Twilio delivers them (specversion, type, source,
 * id, dataschema, datacontenttype, time, data). No `subject`: `source` already names the account.
 */
export interface StreamCloudEvent {
  specversion: '1.0';
  type: string;
  /** The changed account's v2010 URI (`/2010-04-01/Accounts/AC….json`), as Twilio's sources are resource URIs. */
  source: string;
  /**
   * The event's Monitor sid (`AE` + the stored event id's hex): the same for every delivery of
   * one change, so a consumer drops duplicates by it, and `GET /v1/Events/{id}` fetches it.
   */
  id: string;
  dataschema: string;
  datacontenttype: 'application/json';
  /**
   * The stored event's time (`recorded_at`), to the millisecond: stamped inside the appending
   * transaction once it holds the stream's lock (never before the stream's previous event), so
   * slightly before the commit, not the commit's time.
   */
  time: string;
  data: MonitorEvent;
}

/** An event of the feed that is delivered: its Monitor entry and its stream type. */
export interface DeliverableEvent {
  readonly event: RecordedEvent;
  readonly entry: AuditEntry;
  readonly info: EventTypeDefinition;
  /** The changed account. */
  readonly resourceSid: string;
  /** Its main account when the event itself says (creations); otherwise the caller looks it up. */
  readonly knownOwner: string | null;
}

/**
 * Null for every feed event that is not an account change a subscriber sees (bookkeeping, other
 * streams). The entry is Monitor's own (auditEntryOf), so `data` and `/v1/Events` never differ.
 */
export function deliverableOf(event: RecordedEvent): DeliverableEvent | null {
  if (!isAccountEvent(event)) return null;
  const entry = auditEntryOf(event);
  const type = streamEventTypeOf(event);
  if (!entry || !type) return null;
  return { event, entry, info: eventTypeDefinition(type)!, resourceSid: entry.resourceSid, knownOwner: entry.ownerAccountSid };
}

/** `accountSid`: the changed account's main account (itself for a main account), as Monitor's `account_sid`. */
export function toCloudEvent(deliverable: DeliverableEvent, accountSid: string, baseUrl: string): StreamCloudEvent {
  const { entry, info } = deliverable;
  return {
    specversion: '1.0',
    type: info.type,
    source: accountUri(entry.resourceSid),
    id: entry.sid,
    dataschema: schemaRawUrl(baseUrl, info.schemaId, latestSchemaVersion(info.schemaId)!.version),
    datacontenttype: 'application/json',
    time: entry.eventDate.toISOString(),
    data: toMonitorEvent({ ...entry, accountSid }, baseUrl),
  };
}
