import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, type ApiClient } from '../api/client';
import type { AccountHistoryEvent, AccountHistoryPage, AccountSnapshotResource, AccountStateResource, HistoryEventLink } from '../api/wire';
import { ErrorMessage } from '../components/error-message';
import { StatusBadge } from '../components/status-badge';
import { actorText, fieldLabel, formatRfc2822, formatTime, formatValue, sourceText, summarize } from '../lib/format';
import { accountHref, BASE, onLinkClick } from '../lib/router';
import { isUnauthorized, signedOutReason, useAccountSession, useLoad, useSession } from '../session';

const PAGE_SIZE = 50;

interface Timeline {
  version: number;
  /** Loaded pages' events, newest first. */
  events: AccountHistoryEvent[];
  /** The oldest page loaded; older ones load on request. */
  oldestPage: number;
}

/**
 * Loads the newest page of the history and, when a version is asked for, every page down to
 * the one holding it. Pages are version ranges, so the total (from a one-event probe) says
 * which page is the newest.
 */
async function loadTimeline(client: ApiClient, sid: string, down: number | null): Promise<Timeline> {
  const probe = await client.history(sid, 0, 1);
  const version = probe.version;
  const newest = Math.max(0, Math.ceil(version / PAGE_SIZE) - 1);
  const oldest = down ? Math.min(newest, Math.max(0, Math.floor((down - 1) / PAGE_SIZE))) : newest;
  const pages: AccountHistoryPage[] = [];
  for (let page = newest; page >= oldest; page--) pages.push(await client.history(sid, page, PAGE_SIZE));
  return { version: Math.max(version, ...pages.map((p) => p.version)), events: pages.flatMap((p) => [...p.history].reverse()), oldestPage: oldest };
}

export function AccountHistoryPage({ sid, version: asked }: { sid: string; version: number | null }) {
  const { client, me, signOut } = useAccountSession();
  const [refreshes, setRefreshes] = useState(0);
  const timeline = useLoad((c) => loadTimeline(c, sid, asked), [sid, refreshes]);
  const [older, setOlder] = useState<{ events: AccountHistoryEvent[]; oldestPage: number } | null>(null);
  const [olderError, setOlderError] = useState<unknown>(null);
  const [selected, setSelected] = useState<number | null>(asked);

  useEffect(() => setOlder(null), [timeline.data]);

  const data = timeline.data;
  const events = useMemo(() => (data ? [...data.events, ...(older?.events ?? [])] : []), [data, older]);
  const oldestPage = older?.oldestPage ?? data?.oldestPage ?? 0;
  const current = events[0]?.state ?? null;
  const max = data?.version ?? 0;
  const version = selected === null ? max : Math.min(Math.max(selected, 1), max);

  // The chosen version goes into the address, so the view can be shared or bookmarked.
  useEffect(() => {
    if (!data) return;
    const href = accountHref(sid, version === max ? undefined : version);
    if (location.pathname + location.search !== href) history.replaceState(null, '', href);
  }, [version, max, data]);

  const loadOlder = async () => {
    setOlderError(null);
    try {
      const page = await client.history(sid, oldestPage - 1, PAGE_SIZE);
      setOlder({ events: [...(older?.events ?? []), ...[...page.history].reverse()], oldestPage: oldestPage - 1 });
    } catch (error) {
      if (isUnauthorized(error)) return signOut(signedOutReason(error));
      setOlderError(error);
    }
  };

  if (timeline.error instanceof ApiError && timeline.error.status === 404) {
    return (
      <section class="empty">
        <h1>Account not found</h1>
        <p>
          There is no account <span class="mono">{sid}</span> that your account can see.
        </p>
        <p>
          <a href={`${BASE}/accounts`} onClick={onLinkClick}>
            Back to your accounts
          </a>
        </p>
      </section>
    );
  }
  if (timeline.error) {
    return (
      <section>
        <h1>Account history</h1>
        <ErrorMessage error={timeline.error} onRetry={timeline.reload} />
      </section>
    );
  }
  if (!data || !current) return <p class="loading">Loading the history…</p>;

  return (
    <section>
      <p class="breadcrumb">
        <a href={`${BASE}/accounts`} onClick={onLinkClick}>
          Accounts
        </a>{' '}
        / history
      </p>
      <h1 class="account-title">{current.friendly_name}</h1>
      <p class="account-facts">
        <span class="mono">{current.sid}</span> <StatusBadge status={current.status} /> <span>{current.type}</span>
        {current.owner_account_sid !== current.sid && (
          <span>
            owned by{' '}
            {current.owner_account_sid === me.sid ? (
              <a href={accountHref(me.sid)} onClick={onLinkClick}>
                your account
              </a>
            ) : (
              <span class="mono">{current.owner_account_sid}</span>
            )}
          </span>
        )}
      </p>

      <TimeTravel sid={sid} max={max} version={version} current={current} onVersion={setSelected} events={events} />

      <div class="timeline-head">
        <h2 id="timeline-heading">Timeline</h2>
        <p class="hint">
          {max} {max === 1 ? 'event' : 'events'}, newest first
        </p>
        <button type="button" class="secondary small" onClick={() => setRefreshes((n) => n + 1)} aria-busy={timeline.loading}>
          Refresh
        </button>
      </div>
      <ol class="timeline" aria-labelledby="timeline-heading">
        {events.map((event) => (
          <HistoryEntry key={event.version} event={event} selected={event.version === version} onShow={() => setSelected(event.version)} />
        ))}
      </ol>
      {oldestPage > 0 && (
        <p>
          <button type="button" class="secondary" onClick={loadOlder}>
            Show older events
          </button>
        </p>
      )}
      {olderError !== null && <ErrorMessage error={olderError} onRetry={loadOlder} />}
    </section>
  );
}

function TimeTravel({
  sid,
  max,
  version,
  current,
  events,
  onVersion,
}: {
  sid: string;
  max: number;
  version: number;
  current: AccountSnapshotResource;
  events: AccountHistoryEvent[];
  onVersion(version: number): void;
}) {
  const { signOut } = useSession();
  const { client } = useSession();
  const [asOf, setAsOf] = useState('');
  const [query, setQuery] = useState<{ Version: number } | { AsOf: string }>({ Version: version });
  const [result, setResult] = useState<{ state: AccountStateResource | null; error: unknown; for: string }>({ state: null, error: null, for: '' });
  const call = useRef(0);

  // The slider asks for versions; typing a time asks for an instant. A slider move wins over a pending time.
  useEffect(() => {
    if (!('Version' in query) || query.Version !== version) setQuery({ Version: version });
  }, [version]);

  useEffect(() => {
    const id = ++call.current;
    // Let a held arrow key settle before asking.
    const timer = setTimeout(() => {
      client.stateAt(sid, query).then(
        (state) => id === call.current && setResult({ state, error: null, for: JSON.stringify(query) }),
        (error: unknown) => {
          if (id !== call.current) return;
          if (isUnauthorized(error)) return signOut(signedOutReason(error));
          setResult({ state: null, error, for: JSON.stringify(query) });
        },
      );
    }, 120);
    return () => clearTimeout(timer);
  }, [JSON.stringify(query), sid]);

  const showTime = (event: Event) => {
    event.preventDefault();
    const at = new Date(asOf);
    if (!asOf || Number.isNaN(at.getTime())) return;
    setQuery({ AsOf: at.toISOString() });
  };

  const atEvent = events.find((e) => e.version === version);
  const pending = result.for !== JSON.stringify(query);
  const state = result.state;
  // Once an instant is answered, the slider shows the version it resolved to.
  useEffect(() => {
    if (state && 'AsOf' in query && !pending) onVersion(state.state?.version ?? 1);
  }, [state, pending]);

  return (
    <section class="time-travel" aria-labelledby="time-travel-heading">
      <h2 id="time-travel-heading">The account as it was</h2>
      <div class="slider-row">
        <label for="version-slider">Version</label>
        <input
          id="version-slider"
          type="range"
          min={1}
          max={Math.max(max, 1)}
          step={1}
          value={version}
          disabled={max < 2}
          aria-valuetext={`Version ${version} of ${max}${atEvent ? `: ${summarize(atEvent)}` : ''}`}
          onInput={(e) => onVersion(Number(e.currentTarget.value))}
        />
        <output for="version-slider" class="slider-value">
          {version} of {max}
        </output>
      </div>
      <form class="as-of" onSubmit={showTime}>
        <label for="as-of">Or at a time (your local time)</label>
        <input id="as-of" type="datetime-local" step={1} value={asOf} onInput={(e) => setAsOf(e.currentTarget.value)} />
        <button type="submit" class="secondary small">
          Show
        </button>
      </form>
      <div aria-live="polite" aria-busy={pending}>
        {result.error ? (
          <ErrorMessage error={result.error} />
        ) : !state ? (
          <p class="loading">Loading…</p>
        ) : (
          <StateComparison state={state} current={current} />
        )}
      </div>
    </section>
  );
}

const COMPARED = ['friendly_name', 'status', 'type', 'owner_account_sid', 'date_updated'] as const;

function StateComparison({ state, current }: { state: AccountStateResource; current: AccountSnapshotResource }) {
  const then = state.state;
  const when = state.as_of ? `at ${formatTime(state.as_of)}` : `at version ${state.requested_version}`;
  if (!then) {
    return (
      <p class="empty" id="state-summary">
        The account did not exist yet {when}.
      </p>
    );
  }
  const same = Object.keys(state.differences).length === 0;
  return (
    <>
      <p id="state-summary">
        {then.version === state.current.version ? 'This is the account now' : `After version ${then.version} of ${state.current.version}`}
        {state.as_of ? `, as of ${formatTime(state.as_of)}` : ''}
        {same || then.version === state.current.version ? '.' : ': the fields that changed since are marked.'}
      </p>
      <table class="comparison">
        <caption class="visually-hidden">The account then and now</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">Then (version {then.version})</th>
            <th scope="col">Now (version {current.version})</th>
          </tr>
        </thead>
        <tbody>
          {COMPARED.map((field) => {
            const differs = field in state.differences;
            const show = field === 'date_updated' ? formatRfc2822 : formatValue;
            return (
              <tr key={field} class={differs ? 'differs' : undefined}>
                <th scope="row">
                  {fieldLabel(field)}
                  {differs && <span class="tag changed">changed since</span>}
                </th>
                <td data-field={field} class="then">
                  {show(then[field])}
                </td>
                <td class="now">{show(state.current[field])}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

function HistoryEntry({ event, selected, onShow }: { event: AccountHistoryEvent; selected: boolean; onShow(): void }) {
  const { me } = useAccountSession();
  const ref = useRef<HTMLLIElement>(null);
  const changes = Object.entries(event.changes);
  useEffect(() => {
    if (selected && location.search.includes('version=')) ref.current?.scrollIntoView({ block: 'center' });
  }, []);
  return (
    <li id={`v${event.version}`} ref={ref} class={`event${selected ? ' selected' : ''}`} aria-current={selected ? 'step' : undefined}>
      <div class="event-head">
        <span class="version" aria-label={`Version ${event.version}`}>
          v{event.version}
        </span>
        <h3>{summarize(event)}</h3>
      </div>
      <p class="meta">
        <time dateTime={event.recorded_at} title={event.recorded_at}>
          {formatTime(event.recorded_at)}
        </time>{' '}
        <span>by {actorText(event.actor_type, event.actor_sid, me.sid)}</span>{' '}
        <span>via {sourceText(event.source)}</span>
        {event.source_ip_address && <span> from {event.source_ip_address}</span>}
      </p>
      {event.subaccount_sid && (
        <p class="cause">
          Subaccount{' '}
          <a href={accountHref(event.subaccount_sid)} onClick={onLinkClick} class="mono">
            {event.subaccount_sid}
          </a>
        </p>
      )}
      {changes.length > 0 && (
        <table class="changes">
          <caption class="visually-hidden">Fields this event changed</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {changes.map(([field, change]) => (
              <tr key={field}>
                <th scope="row">{fieldLabel(field)}</th>
                <td class="before">{formatValue(change.previous)}</td>
                <td class="after">{formatValue(change.updated)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {event.caused_by && (
        <p class="cause">
          Caused by <EventLink link={event.caused_by} you={me.sid} />
        </p>
      )}
      {event.caused.length > 0 && (
        <div class="effects">
          <p>
            Caused {event.caused.length}
            {event.caused_more ? '+' : ''} {event.caused.length === 1 ? 'event' : 'events'}:
          </p>
          <ul>
            {event.caused.map((link) => (
              <li key={link.sid}>
                <EventLink link={link} you={me.sid} />
              </li>
            ))}
          </ul>
        </div>
      )}
      <div class="event-foot">
        <button type="button" class="link" onClick={onShow} aria-pressed={selected}>
          Show the account as of this version
        </button>
        <details>
          <summary>Details</summary>
          <dl>
            <dt>Event</dt>
            <dd class="mono">{event.sid}</dd>
            <dt>Type</dt>
            <dd class="mono">{event.type}</dd>
            {event.request_id && (
              <>
                <dt>Request</dt>
                <dd class="mono">{event.request_id}</dd>
              </>
            )}
            {event.user_agent && (
              <>
                <dt>Client</dt>
                <dd>{event.user_agent}</dd>
              </>
            )}
          </dl>
        </details>
      </div>
    </li>
  );
}

function EventLink({ link, you }: { link: HistoryEventLink; you: string }) {
  const whose = link.account_sid === you ? 'your account' : `account ${link.account_sid}`;
  return (
    <a href={`${accountHref(link.account_sid, link.version)}#v${link.version}`} onClick={onLinkClick} class="event-link">
      version {link.version} of {whose} ({link.type})
    </a>
  );
}
