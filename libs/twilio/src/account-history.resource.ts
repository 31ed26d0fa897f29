import type { ListPaging } from './list-paging';
import { eventSidFromEventId } from './sid.codec';
import { withQuery } from './query-string.util';

/**
 * Our addition to the wire: an account's history and its state at a version or an instant
 * (`/v1/Accounts/{Sid}/History`, `/v1/Accounts/{Sid}/State`), for people and tools debugging
 * an account. Never an auth token, sealed or plain.
 */

/** An account as it was after some version, fields named as in the Account resource. */
export interface AccountSnapshotResource {
  sid: string;
  friendly_name: string;
  owner_account_sid: string;
  status: string;
  type: string;
  date_created: string | null;
  date_updated: string | null;
  version: number;
}

export interface FieldChange {
  previous: unknown;
  updated: unknown;
}

/** Another event, on this or another account's history. */
export interface HistoryEventLink {
  /** `AE…`, as Monitor names the event. */
  sid: string;
  account_sid: string;
  version: number;
  type: string;
}

export interface AccountHistoryEvent {
  /** `AE…`; audited events can be fetched at `/v1/Events/{sid}` (bookkeeping ones are not audited). */
  sid: string;
  version: number;
  /** The stored event type, e.g. `AccountRenamed`. */
  type: string;
  /** ISO 8601 with milliseconds. */
  recorded_at: string;
  /** `account` (API caller), `operator` (CLI), `system` (a cascade). */
  actor_type: string | null;
  actor_sid: string | null;
  /** `api`, `cli` or `system`. */
  source: string | null;
  source_ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  /** Status changes: `requested`, `operator`, `owner_suspended`, `owner_reactivated`, `owner_closed`. */
  reason: string | null;
  /** SubaccountAdded / SubaccountReleased: which subaccount. */
  subaccount_sid: string | null;
  /** Field → before and after; empty for bookkeeping events. */
  changes: Record<string, FieldChange>;
  /** The account after this event. */
  state: AccountSnapshotResource;
  /** The event that caused this one (an owner cascade's parent), when the caller may see it. */
  caused_by: HistoryEventLink | null;
  /** The events this one caused, at most 100. */
  caused: HistoryEventLink[];
  /** It caused more than `caused` lists. */
  caused_more: boolean;
}

export interface AccountHistoryPage extends ListPaging {
  account_sid: string;
  /** The account's version now: its history has this many events. */
  version: number;
  history: AccountHistoryEvent[];
}

/** What the read side hands over; structurally the accounts library's history entry. */
export interface AccountHistoryEntryView {
  version: number;
  type: string;
  event_id: string;
  recorded_at: string;
  actor: { type: string | null; sid: string | null; source: string | null; ip: string | null; user_agent: string | null; request_id: string | null };
  reason: string | null;
  subaccount_sid: string | null;
  changes: Record<string, FieldChange>;
  state: AccountSnapshotResource;
  caused_by: EventLinkView | null;
  caused: EventLinkView[];
  caused_more: boolean;
}

export interface EventLinkView {
  event_id: string;
  account_sid: string;
  version: number;
  type: string;
}

export const accountHistoryPath = (sid: string): string => `/v1/Accounts/${sid}/History`;
export const accountStatePath = (sid: string): string => `/v1/Accounts/${sid}/State`;

function historyUri(sid: string, pageSize: number, page: number): string {
  return withQuery(accountHistoryPath(sid), [
    ['PageSize', pageSize],
    ['Page', page],
  ]);
}

const linkOf = (link: EventLinkView): HistoryEventLink => ({
  sid: eventSidFromEventId(link.event_id),
  account_sid: link.account_sid,
  version: link.version,
  type: link.type,
});

export function toAccountHistoryEvent(entry: AccountHistoryEntryView): AccountHistoryEvent {
  return {
    sid: eventSidFromEventId(entry.event_id),
    version: entry.version,
    type: entry.type,
    recorded_at: entry.recorded_at,
    actor_type: entry.actor.type,
    actor_sid: entry.actor.sid,
    source: entry.actor.source,
    source_ip_address: entry.actor.ip,
    user_agent: entry.actor.user_agent,
    request_id: entry.actor.request_id,
    reason: entry.reason,
    subaccount_sid: entry.subaccount_sid,
    changes: entry.changes,
    state: entry.state,
    caused_by: entry.caused_by ? linkOf(entry.caused_by) : null,
    caused: entry.caused.map(linkOf),
    caused_more: entry.caused_more,
  };
}

/**
 * Pages are ranges of versions (`Page` × `PageSize` + 1 …), oldest first. Versions never change
 * once written, so a page's URI names the same events forever and no page token is needed.
 */
export function toAccountHistoryPage(input: {
  sid: string;
  version: number;
  entries: readonly AccountHistoryEntryView[];
  page: number;
  pageSize: number;
}): AccountHistoryPage {
  const { sid, version, entries, page, pageSize } = input;
  const start = page * pageSize;
  return {
    account_sid: sid,
    version,
    history: entries.map(toAccountHistoryEvent),
    end: entries.length > 0 ? start + entries.length - 1 : start,
    first_page_uri: historyUri(sid, pageSize, 0),
    next_page_uri: start + pageSize < version ? historyUri(sid, pageSize, page + 1) : null,
    page,
    page_size: pageSize,
    previous_page_uri: page > 0 ? historyUri(sid, pageSize, Math.min(page - 1, Math.max(0, Math.ceil(version / pageSize) - 1))) : null,
    start,
    uri: historyUri(sid, pageSize, page),
  };
}

export interface AccountStateResource {
  account_sid: string;
  /** The `Version` asked for, or null. */
  requested_version: number | null;
  /** The `AsOf` asked for, as understood: the last instant it covers (ISO 8601, milliseconds). */
  as_of: string | null;
  /** The account then; null when it did not exist yet. */
  state: AccountSnapshotResource | null;
  /** The account now. */
  current: AccountSnapshotResource;
  /** Each field that differs between then and now (every field when it did not exist then). */
  differences: Record<string, { then: unknown; now: unknown }>;
  uri: string;
}

const COMPARED = ['friendly_name', 'owner_account_sid', 'status', 'type', 'date_updated'] as const;

export function toAccountStateResource(input: {
  sid: string;
  requestedVersion: number | null;
  asOf: Date | null;
  then: AccountSnapshotResource | null;
  now: AccountSnapshotResource;
}): AccountStateResource {
  const { sid, then, now } = input;
  const differences: AccountStateResource['differences'] = {};
  for (const field of COMPARED) {
    if (then?.[field] !== now[field]) differences[field] = { then: then?.[field] ?? null, now: now[field] };
  }
  return {
    account_sid: sid,
    requested_version: input.requestedVersion,
    as_of: input.asOf ? input.asOf.toISOString() : null,
    state: then,
    current: now,
    differences,
    uri: withQuery(accountStatePath(sid), [
      ['Version', input.requestedVersion],
      ['AsOf', input.asOf?.toISOString()],
    ]),
  };
}
