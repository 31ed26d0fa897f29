import { useState } from 'preact/hooks';
import type { ApiClient } from '../api/client';
import type { EventsPage, MonitorEvent } from '../api/wire';
import { ErrorMessage } from '../components/error-message';
import { toCsv } from '../lib/csv';
import { download } from '../lib/download';
import { actorText, changesText, formatTime, sourceText } from '../lib/format';
import { accountHref, onLinkClick } from '../lib/router';
import { isUnauthorized, signedOutReason, useLoad, useSession } from '../session';

const PAGE_SIZE = 50;
/** An export reads every page of the result; this many events at most. */
const EXPORT_LIMIT = 10_000;

/** Monitor takes one of these at a time, plus the date range. */
const FILTERS = {
  ResourceSid: { label: 'Account (resource SID)', placeholder: 'AC…' },
  ActorSid: { label: 'Actor SID', placeholder: 'AC…' },
  EventType: { label: 'Event type', placeholder: '' },
  SourceIpAddress: { label: 'Source address', placeholder: '203.0.113.7' },
} as const;
type FilterName = keyof typeof FILTERS;

interface Search {
  by: FilterName | '';
  value: string;
  /** `datetime-local` values, local time. */
  from: string;
  to: string;
}

const EMPTY: Search = { by: '', value: '', from: '', to: '' };

/** Monitor's query for a search; the local times become UTC instants, the end inclusive to its minute. */
function queryOf(search: Search): Record<string, string> {
  const query: Record<string, string> = {};
  if (search.by && search.value.trim()) query[search.by] = search.value.trim();
  const utc = (local: string, precision: 'second' | 'minute') => {
    const date = new Date(local);
    if (Number.isNaN(date.getTime())) return undefined;
    const iso = date.toISOString();
    return precision === 'minute' ? `${iso.slice(0, 16)}Z` : `${iso.slice(0, 19)}Z`;
  };
  const from = search.from && utc(search.from, 'second');
  const to = search.to && utc(search.to, 'minute');
  if (from) query.StartDate = from;
  if (to) query.EndDate = to;
  return query;
}

export function AuditPage() {
  const { client, me, signOut } = useSession();
  const [draft, setDraft] = useState<Search>(EMPTY);
  const [search, setSearch] = useState<Search>(EMPTY);
  const [pageUrl, setPageUrl] = useState<string | null>(null);
  const [exporting, setExporting] = useState<string | null>(null);
  const [exportError, setExportError] = useState<unknown>(null);

  const events = useLoad<EventsPage>(
    (c) => (pageUrl ? c.follow(pageUrl) : c.listEvents({ ...queryOf(search), PageSize: PAGE_SIZE })),
    [search, pageUrl],
  );

  const submit = (event: Event) => {
    event.preventDefault();
    setPageUrl(null);
    setSearch({ ...draft });
  };

  const exportAs = async (format: 'csv' | 'json') => {
    setExportError(null);
    setExporting(`Reading events…`);
    try {
      const { events: all, truncated } = await readAll(client, queryOf(search), (n) => setExporting(`Read ${n} events…`));
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      if (format === 'json') {
        download(`audit-${stamp}.json`, 'application/json', `${JSON.stringify({ filters: queryOf(search), truncated, events: all }, null, 2)}\n`);
      } else {
        download(`audit-${stamp}.csv`, 'text/csv;charset=utf-8', toCsv(CSV_HEADER, all.map(csvRow)));
      }
      setExporting(truncated ? `Exported the newest ${all.length} events (the export stops at ${EXPORT_LIMIT}).` : `Exported ${all.length} events.`);
    } catch (error) {
      if (isUnauthorized(error)) return signOut(signedOutReason(error));
      setExporting(null);
      setExportError(error);
    }
  };

  const page = events.data;
  return (
    <section>
      <h1>Audit trail</h1>
      <p class="lede">Every change to your accounts: who made it, when, from where and what it changed. Newest first.</p>
      <form class="filters audit-filters" onSubmit={submit} aria-label="Search the audit trail">
        <div class="field">
          <label for="filter-by">Filter by</label>
          <select id="filter-by" value={draft.by} onChange={(e) => setDraft({ ...draft, by: e.currentTarget.value as FilterName | '' })}>
            <option value="">Nothing (all events)</option>
            {(Object.keys(FILTERS) as FilterName[]).map((name) => (
              <option key={name} value={name}>
                {FILTERS[name].label}
              </option>
            ))}
          </select>
        </div>
        {draft.by === 'EventType' ? (
          <div class="field">
            <label for="filter-value">Event type</label>
            <select id="filter-value" value={draft.value} onChange={(e) => setDraft({ ...draft, value: e.currentTarget.value })}>
              <option value="">Any</option>
              <option value="account.created">account.created</option>
              <option value="account.updated">account.updated</option>
            </select>
          </div>
        ) : (
          draft.by && (
            <div class="field">
              <label for="filter-value">{FILTERS[draft.by].label}</label>
              <input
                id="filter-value"
                value={draft.value}
                placeholder={FILTERS[draft.by].placeholder}
                spellcheck={false}
                maxLength={256}
                onInput={(e) => setDraft({ ...draft, value: e.currentTarget.value })}
              />
            </div>
          )
        )}
        <div class="field">
          <label for="filter-from">From (local time)</label>
          <input id="filter-from" type="datetime-local" value={draft.from} onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })} />
        </div>
        <div class="field">
          <label for="filter-to">To (local time, inclusive)</label>
          <input id="filter-to" type="datetime-local" value={draft.to} onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })} />
        </div>
        <button type="submit">Search</button>
      </form>

      <div class="export" role="group" aria-label="Export the result">
        <button type="button" class="secondary small" onClick={() => exportAs('csv')} disabled={!page || page.events.length === 0}>
          Export CSV
        </button>
        <button type="button" class="secondary small" onClick={() => exportAs('json')} disabled={!page || page.events.length === 0}>
          Export JSON
        </button>
        <span role="status" class="hint">
          {exporting}
        </span>
      </div>
      {exportError !== null && <ErrorMessage error={exportError} />}

      {events.error ? (
        <ErrorMessage error={events.error} onRetry={events.reload} />
      ) : !page ? (
        <p class="loading">Loading events…</p>
      ) : page.events.length === 0 ? (
        <p class="empty">No events match this search.</p>
      ) : (
        <div class="table-scroll" tabIndex={0} role="region" aria-label="Audit events">
          <table class="events stack" aria-busy={events.loading}>
            <caption class="visually-hidden">Audit events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Account</th>
                <th scope="col">Who</th>
                <th scope="col">From</th>
                <th scope="col">Changes</th>
              </tr>
            </thead>
            <tbody>
              {page.events.map((event) => (
                <tr key={event.sid}>
                  <td data-label="When">
                    <time dateTime={event.event_date} title={event.event_date}>
                      {formatTime(event.event_date)}
                    </time>
                  </td>
                  <td data-label="What">
                    <span class="mono small nowrap">{event.event_type}</span>
                    <br />
                    {event.description}
                  </td>
                  <td data-label="Account">
                    {me ? (
                      <a href={accountHref(event.resource_sid)} onClick={onLinkClick} class="mono small nowrap">
                        {event.resource_sid}
                      </a>
                    ) : (
                      // An API key cannot read an account's history: the sid is text, not a link to a refusal.
                      <span class="mono small nowrap">{event.resource_sid}</span>
                    )}
                  </td>
                  <td data-label="Who">
                    {actorText(event.actor_type, event.actor_sid, client.accountSid)} via {sourceText(event.source)}
                  </td>
                  <td data-label="From">{event.source_ip_address ?? '—'}</td>
                  <td data-label="Changes">{changesText(event.event_data)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {page && (page.meta.previous_page_url || page.meta.next_page_url) && (
        <nav class="pager" aria-label="Pages of events">
          <button type="button" class="secondary" disabled={!page.meta.previous_page_url} onClick={() => setPageUrl(page.meta.previous_page_url)}>
            Newer
          </button>
          <span>Page {page.meta.page + 1}</span>
          <button type="button" class="secondary" disabled={!page.meta.next_page_url} onClick={() => setPageUrl(page.meta.next_page_url)}>
            Older
          </button>
        </nav>
      )}
    </section>
  );
}

/** One column per changed field, before and after, so a spreadsheet can sort and filter them; the raw data last. */
const CHANGED_FIELDS = ['friendly_name', 'status', 'type'] as const;
const CSV_HEADER = [
  'sid',
  'event_date',
  'event_type',
  'description',
  'resource_sid',
  'actor_type',
  'actor_sid',
  'source',
  'source_ip_address',
  ...CHANGED_FIELDS.flatMap((field) => [`${field}_previous`, `${field}_updated`]),
  'event_data',
];

function csvRow(e: MonitorEvent): unknown[] {
  const change = (field: string) => (e.event_data?.[field] ?? null) as { previous?: unknown; updated?: unknown } | null;
  return [
    e.sid,
    e.event_date,
    e.event_type,
    e.description,
    e.resource_sid,
    e.actor_type,
    e.actor_sid,
    e.source,
    e.source_ip_address,
    ...CHANGED_FIELDS.flatMap((field) => [change(field)?.previous, change(field)?.updated]),
    e.event_data,
  ];
}

/** Every page of a search, newest first, up to EXPORT_LIMIT events. */
async function readAll(client: ApiClient, query: Record<string, string>, progress: (n: number) => void): Promise<{ events: MonitorEvent[]; truncated: boolean }> {
  const events: MonitorEvent[] = [];
  let page = await client.listEvents({ ...query, PageSize: 1000 });
  for (;;) {
    events.push(...page.events);
    progress(events.length);
    if (events.length >= EXPORT_LIMIT) return { events: events.slice(0, EXPORT_LIMIT), truncated: events.length > EXPORT_LIMIT || page.meta.next_page_url !== null };
    if (!page.meta.next_page_url) return { events, truncated: false };
    page = await client.follow<EventsPage>(page.meta.next_page_url);
  }
}
