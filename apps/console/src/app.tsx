import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient } from './api/client';
import { clearCredentials, loadCredentials, saveCredentials, type Credentials } from './api/credentials';
import type { AccountResource } from './api/wire';
import { ErrorMessage } from './components/error-message';
import { BASE, onLinkClick, parseRoute, useLocation, type Route } from './lib/router';
import { AccountHistoryPage } from './pages/account-history';
import { AccountsPage } from './pages/accounts';
import { AuditPage } from './pages/audit';
import { NotFoundPage } from './pages/not-found';
import { SignInPage } from './pages/sign-in';
import { isUnauthorized, SessionContext, signedOutReason, useSession, type Session } from './session';

type Auth =
  | { state: 'signed-out'; notice: string | null }
  | { state: 'checking'; client: ApiClient }
  | { state: 'failed'; client: ApiClient; error: unknown }
  | { state: 'signed-in'; client: ApiClient; me: AccountResource };

export function App() {
  const [auth, setAuth] = useState<Auth>(() => {
    const stored = loadCredentials();
    return stored ? { state: 'checking', client: new ApiClient(stored) } : { state: 'signed-out', notice: null };
  });

  const signOut = useCallback((notice?: string) => {
    clearCredentials();
    setAuth({ state: 'signed-out', notice: notice ?? null });
  }, []);

  /** Credentials are kept only once the API has accepted them. */
  const signIn = useCallback(async (credentials: Credentials) => {
    const client = new ApiClient(credentials);
    const me = await client.fetchAccount(credentials.accountSid);
    saveCredentials(credentials);
    setAuth({ state: 'signed-in', client, me });
  }, []);

  // Credentials kept from earlier in this tab: check they still work.
  const checking = auth.state === 'checking' ? auth.client : null;
  useEffect(() => {
    if (!checking) return;
    checking.fetchAccount(checking.accountSid).then(
      (me) => setAuth({ state: 'signed-in', client: checking, me }),
      (error: unknown) => (isUnauthorized(error) ? signOut(signedOutReason(error)) : setAuth({ state: 'failed', client: checking, error })),
    );
  }, [checking, signOut]);

  const session = useMemo<Session | null>(
    () => (auth.state === 'signed-in' ? { client: auth.client, me: auth.me, signOut } : null),
    [auth, signOut],
  );

  if (auth.state === 'signed-out') return <SignInPage notice={auth.notice} onSignIn={signIn} />;
  if (auth.state === 'checking') return <p class="loading page-loading">Loading…</p>;
  if (auth.state === 'failed') {
    return (
      <main class="sign-in" id="main">
        <h1>Accountable console</h1>
        <ErrorMessage error={auth.error} onRetry={() => setAuth({ state: 'checking', client: auth.client })} />
        <button type="button" class="secondary" onClick={() => signOut()}>
          Sign out
        </button>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell />
    </SessionContext.Provider>
  );
}

const TITLES: Record<Route['page'], string> = {
  accounts: 'Accounts',
  account: 'Account history',
  audit: 'Audit trail',
  'not-found': 'Page not found',
};

function Shell() {
  const { pathname, search } = useLocation();
  const route = parseRoute(pathname, search);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${TITLES[route.page]} — Accountable console`;
    // After a navigation, start reading at the new page (as a page load would), not at the link.
    if (!first.current) main.current?.focus();
    first.current = false;
  }, [pathname]);

  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header route={route} />
      <main id="main" ref={main} tabIndex={-1}>
        {route.page === 'accounts' && <AccountsPage />}
        {route.page === 'account' && <AccountHistoryPage key={`${route.sid}@${route.version ?? ''}`} sid={route.sid} version={route.version} />}
        {route.page === 'audit' && <AuditPage />}
        {route.page === 'not-found' && <NotFoundPage />}
      </main>
    </>
  );
}

function Header({ route }: { route: Route }) {
  const { me, signOut } = useSession();
  const current = (page: Route['page']) => (route.page === page || (page === 'accounts' && route.page === 'account') ? 'page' : undefined);
  return (
    <header class="top">
      <a class="brand" href={`${BASE}/accounts`} onClick={onLinkClick}>
        Accountable
      </a>
      <nav aria-label="Main">
        <a href={`${BASE}/accounts`} onClick={onLinkClick} aria-current={current('accounts')}>
          Accounts
        </a>
        <a href={`${BASE}/audit`} onClick={onLinkClick} aria-current={current('audit')}>
          Audit trail
        </a>
      </nav>
      <div class="who">
        <span class="who-name" title={me.sid}>
          {me.friendly_name}
        </span>
        <button type="button" class="secondary small" onClick={() => signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}

