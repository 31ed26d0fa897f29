import { ACCOUNT_STREAM_PREFIX, AccountEventType, isAccountEvent, type StatusChangeReason } from '../../domain';
import { ipAddressOrNull, type RecordedEvent } from '@accountable/event-store';
import { eventSidFromEventId } from '@accountable/twilio';

/** Monitor event types this service emits (COMPAT.md). */
export const AuditEventType = {
  AccountCreated: 'account.created',
  AccountUpdated: 'account.updated',
  ApiKeyCreated: 'account-api-keys.created',
  ApiKeyUpdated: 'account-api-keys.updated',
  ApiKeyDeleted: 'account-api-keys.deleted',
  SecondaryAuthTokenCreated: 'account-auth-token.secondary-created',
  SecondaryAuthTokenDeleted: 'account-auth-token.secondary-deleted',
  AuthTokenPromoted: 'account-auth-token.promoted',
} as const;
export type AuditEventType = (typeof AuditEventType)[keyof typeof AuditEventType];

type Change = { previous: unknown; updated: unknown };

/** One audit row as the projection derives it from a single event, owner aside. */
export interface AuditEntry {
  sid: string;
  eventId: string;
  globalPosition: number;
  /** Known from the event itself for creations; for updates the projection looks it up. */
  ownerAccountSid: string | null;
  resourceSid: string;
  resourceType: 'account';
  eventType: AuditEventType;
  eventData: Record<string, Change>;
  actorType: string;
  actorSid: string | null;
  source: string;
  sourceIpAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  correlationId: string | null;
  causationId: string | null;
  description: string;
  eventDate: Date;
}

/**
 * Exported for the rebuild's SQL load (AuditHistoryProjection.loadRange), which must say the same.
 * Every reason, so that a new one is a compile error here until it says what it means.
 */
export const REASON_TEXT: Readonly<Record<StatusChangeReason, string>> = {
  requested: '',
  operator: '',
  owner_suspended: ' (its owner account was suspended)',
  owner_reactivated: ' (its owner account was reactivated)',
  owner_closed: ' (its owner account was closed)',
};

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * The audit entry of an account event, or null for events that are not audited (the owner
 * stream's SubaccountAdded/SubaccountReleased bookkeeping, anything not on an account stream).
 * Pure: same event, same entry, so replays and rebuilds reproduce every row exactly.
 */
export function auditEntryOf(event: RecordedEvent): AuditEntry | null {
  if (!event.streamId.startsWith(ACCOUNT_STREAM_PREFIX) || !isAccountEvent(event)) return null;
  const resourceSid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
  let ownerAccountSid: string | null = null;
  let eventType: AuditEventType = AuditEventType.AccountUpdated;
  let eventData: Record<string, Change>;
  let description: string;

  switch (event.type) {
    case AccountEventType.MainAccountCreated:
    case AccountEventType.SubaccountCreated: {
      const isMain = event.type === AccountEventType.MainAccountCreated;
      ownerAccountSid = isMain ? resourceSid : event.data.ownerAccountSid;
      eventType = AuditEventType.AccountCreated;
      // The auth token is never audited, not even sealed.
      eventData = {
        friendly_name: { previous: null, updated: event.data.friendlyName },
        status: { previous: null, updated: 'active' },
        type: { previous: null, updated: event.data.type },
      };
      description = isMain ? 'Main account created' : 'Subaccount created';
      break;
    }
    case AccountEventType.AccountRenamed:
      eventData = { friendly_name: { previous: event.data.previous, updated: event.data.friendlyName } };
      description = 'Friendly name changed';
      break;
    case AccountEventType.AccountStatusChanged:
      eventData = { status: { previous: event.data.previous, updated: event.data.status } };
      // `?? ''`: a stored reason this version does not know (the SQL load's CASE ends in '' too).
      description = `Status changed from ${event.data.previous} to ${event.data.status}${REASON_TEXT[event.data.reason] ?? ''}`;
      break;
    case AccountEventType.AccountUpgraded:
      eventData = { type: { previous: event.data.previous, updated: event.data.type } };
      description = `Type changed from ${event.data.previous} to ${event.data.type}`;
      break;
    // A key's events are about its account's credentials: resource_sid is the account (our
    // choice: visibility and the owner lookup stay those of account events), the key sid is in
    // event_data. Never the secret, nor its verifier.
    case AccountEventType.ApiKeyCreated:
      eventType = AuditEventType.ApiKeyCreated;
      eventData = { api_key_sid: { previous: null, updated: event.data.keySid }, friendly_name: { previous: null, updated: event.data.friendlyName } };
      description = `API key ${event.data.keySid} created`;
      break;
    case AccountEventType.ApiKeyRenamed:
      eventType = AuditEventType.ApiKeyUpdated;
      eventData = {
        api_key_sid: { previous: event.data.keySid, updated: event.data.keySid },
        friendly_name: { previous: event.data.previous, updated: event.data.friendlyName },
      };
      description = `API key ${event.data.keySid} renamed`;
      break;
    case AccountEventType.ApiKeyDeleted:
      eventType = AuditEventType.ApiKeyDeleted;
      eventData = { api_key_sid: { previous: event.data.keySid, updated: null }, friendly_name: { previous: event.data.friendlyName, updated: null } };
      description = `API key ${event.data.keySid} deleted`;
      break;
    // Tokens have no sid: resource_sid is the account. No token, plain or sealed, in event_data.
    case AccountEventType.SecondaryAuthTokenCreated:
      eventType = AuditEventType.SecondaryAuthTokenCreated;
      eventData = {};
      description = event.data.replaced ? 'Secondary auth token created (replacing the previous one)' : 'Secondary auth token created';
      break;
    case AccountEventType.SecondaryAuthTokenDeleted:
      eventType = AuditEventType.SecondaryAuthTokenDeleted;
      eventData = {};
      description = 'Secondary auth token deleted';
      break;
    case AccountEventType.AuthTokenPromoted:
      eventType = AuditEventType.AuthTokenPromoted;
      eventData = {};
      description = 'Secondary auth token promoted to primary; the previous primary no longer authenticates';
      break;
    // The owner stream's bookkeeping of its subaccounts: the subaccount's own events say it.
    // No default: a new event type leaves eventData unassigned, which does not compile.
    case AccountEventType.SubaccountAdded:
    case AccountEventType.SubaccountReleased:
      return null;
  }

  const m = event.metadata;
  return {
    sid: eventSidFromEventId(event.eventId),
    eventId: event.eventId,
    globalPosition: event.globalPosition,
    ownerAccountSid,
    resourceSid,
    resourceType: 'account',
    eventType,
    eventData,
    // Every command records its actor and source; an event without them can only come from
    // inside the service, which is what `system` means.
    actorType: text(m.actorType) ?? 'system',
    actorSid: text(m.actorSid),
    source: text(m.source) ?? 'system',
    // Only an IP address: a log may hold whatever a trusted X-Forwarded-For carried before
    // addresses were checked on the way in (a 3,000-character string broke the address index).
    // The event keeps it; `cli replay` shows it.
    sourceIpAddress: ipAddressOrNull(m.sourceIp),
    userAgent: text(m.userAgent),
    requestId: text(m.requestId),
    correlationId: text(m.correlationId),
    causationId: text(m.causationId),
    description,
    eventDate: event.recordedAt,
  };
}
