import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';

export type Route =
  | { page: 'accounts' }
  | { page: 'account'; sid: string; version: number | null }
  | { page: 'audit' }
  | { page: 'not-found' };

/** Paths under /console; the server answers each with the same page (serve-console.ts). */
export function parseRoute(pathname: string, search: string): Route {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length).replace(/\/+$/, '') : null;
  if (path === null) return { page: 'not-found' };
  if (path === '' || path === '/accounts') return { page: 'accounts' };
  if (path === '/audit') return { page: 'audit' };
  const account = /^\/accounts\/([^/]+)$/.exec(path);
  if (account) {
    const version = Number(new URLSearchParams(search).get('version'));
    // Any segment is handed to the API as typed; the API decides what exists (404 otherwise).
    return { page: 'account', sid: decodeURIComponent(account[1]), version: Number.isSafeInteger(version) && version > 0 ? version : null };
  }
  return { page: 'not-found' };
}

export const accountHref = (sid: string, version?: number): string =>
  `${BASE}/accounts/${encodeURIComponent(sid)}${version ? `?version=${version}` : ''}`;

const CHANGE = 'console:navigate';

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new Event(CHANGE));
}

/** The current location, re-read on back/forward and on navigate(). */
export function useLocation(): { pathname: string; search: string } {
  const read = () => ({ pathname: location.pathname, search: location.search });
  const [current, setCurrent] = useState(read);
  useEffect(() => {
    const update = () => setCurrent(read());
    window.addEventListener('popstate', update);
    window.addEventListener(CHANGE, update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener(CHANGE, update);
    };
  }, []);
  return current;
}

/** A plain click on an in-console link navigates without a reload; anything else (new tab, …) is the browser's. */
export function onLinkClick(event: MouseEvent): void {
  const link = (event.currentTarget as HTMLAnchorElement | null) ?? null;
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.origin !== location.origin || !link.pathname.startsWith(BASE)) return;
  event.preventDefault();
  navigate(link.pathname + link.search + link.hash);
}
