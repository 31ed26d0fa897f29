import type { AccountHistoryEvent, MonitorEvent } from '../api/wire';

export const FIELD_LABELS: Record<string, string> = {
  friendly_name: 'Name',
  status: 'Status',
  type: 'Type',
  owner_account_sid: 'Owner',
  date_created: 'Created',
  date_updated: 'Last changed',
};

export const fieldLabel = (field: string): string => FIELD_LABELS[field] ?? field;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** Local time for people; the exact instant stays in the element's `datetime` and title. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** v2010 dates (RFC 2822) in local time. */
export function formatRfc2822(text: string | null): string {
  if (!text) return '—';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : dateTime.format(date);
}

export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const REASONS: Record<string, string> = {
  requested: 'at the owner account’s request',
  operator: 'by an operator',
  owner_suspended: 'because its owner account was suspended',
  owner_reactivated: 'because its owner account was reactivated',
  owner_closed: 'because its owner account was closed',
};

/** One line saying what an event of the history did. */
export function summarize(event: AccountHistoryEvent): string {
  const status = event.changes.status;
  switch (event.type) {
    case 'MainAccountCreated':
      return 'Main account created';
    case 'SubaccountCreated':
      return 'Subaccount created';
    case 'SubaccountAdded':
      return 'A subaccount was created under this account';
    case 'SubaccountReleased':
      return 'A subaccount was closed (it no longer counts towards the limit)';
    case 'AccountRenamed':
      return 'Renamed';
    case 'AccountStatusChanged':
      return [`Status changed to ${formatValue(status?.updated)}`, event.reason ? REASONS[event.reason] : null].filter(Boolean).join(' ');
    case 'AccountUpgraded':
      return 'Upgraded to Full';
    default:
      return event.type;
  }
}

/** Who made a change, in words. */
export function actorText(actorType: string | null, actorSid: string | null, you: string): string {
  switch (actorType) {
    case 'account':
      return actorSid === you ? 'you' : `account ${actorSid ?? 'unknown'}`;
    case 'operator':
      return 'an operator';
    case 'system':
      return 'the service itself';
    default:
      return 'unknown';
  }
}

export function sourceText(source: string | null): string {
  switch (source) {
    case 'api':
      return 'the API';
    case 'cli':
      return 'the command line';
    case 'system':
      return 'a cascade';
    default:
      return source ?? 'unknown';
  }
}

/** Monitor's event_data (`{field: {previous, updated}}`) as text for a table cell or an export. */
export function changesText(data: MonitorEvent['event_data']): string {
  if (!data) return '';
  return Object.entries(data)
    .map(([field, change]) => {
      const c = change as { previous?: unknown; updated?: unknown };
      return `${fieldLabel(field)}: ${formatValue(c?.previous)} → ${formatValue(c?.updated)}`;
    })
    .join('; ');
}
