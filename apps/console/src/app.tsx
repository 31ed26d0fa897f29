import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiClient } from './api/client';
import { clearCredentials, loadCredentials, saveCredentials, type Credentials } from './api/credentials';
import type { AccountResource } from './api/wire';
import { ErrorMessage } from './components/error-message';
import { BASE, navigate, onLinkClick, parseRoute, useLocation, type Route } from './lib/router';
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
  | { state: 'signed-in'; client: ApiClient; me: AccountResource | null };

/**
 * What the API says about these credentials: the account for an auth token; for an API key, which
 * may not read accounts, one page of its account's events (the only thing a key session shows).
 */
async function check(client: ApiClient): Promise<AccountResource | null> {
  if (client.credentials.kind === 'api-key') {
    await client.listEvents({ PageSize: 1 });
    return null;
  }
  return client.fetchAccount(client.accountSid);
}

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
    const me = await check(client);
    saveCredentials(credentials);
    // A key session starts where it can do something: the audit trail.
    if (!me && parseRoute(location.pathname, location.search).page !== 'audit') navigate(`${BASE}/audit`, true);
    setAuth({ state: 'signed-in', client, me });
  }, []);

  // Credentials kept from earlier in this tab: check they still work.
  const checking = auth.state === 'checking' ? auth.client : null;
  useEffect(() => {
    if (!checking) return;
    check(checking).then(
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
  const { me } = useSession();
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
        {!me && (route.page === 'accounts' || route.page === 'account') && <KeyCannotPage />}
        {me && route.page === 'accounts' && <AccountsPage />}
        {me && route.page === 'account' && <AccountHistoryPage key={`${route.sid}@${route.version ?? ''}`} sid={route.sid} version={route.version} />}
        {route.page === 'audit' && <AuditPage />}
        {route.page === 'not-found' && <NotFoundPage />}
      </main>
    </>
  );
}

/** Accounts and history under an API key: the API refuses a standard key there, so say so plainly. */
function KeyCannotPage() {
  return (
    <>
      <h1>Not available with an API key</h1>
      <p>
        Signed in with an API key, the console shows the audit trail only: the API accepts a standard key on its events, not on accounts or their
        history. To see those, sign out and sign in with the account’s auth token.
      </p>
      <p>
        <a href={`${BASE}/audit`} onClick={onLinkClick}>
          Go to the audit trail
        </a>
      </p>
    </>
  );
}

function Header({ route }: { route: Route }) {
  const { client, me, signOut } = useSession();
  const credentials = client.credentials;
  const current = (page: Route['page']) => (route.page === page || (page === 'accounts' && route.page === 'account') ? 'page' : undefined);
  return (
    <header class="top">
      <a class="brand" href={me ? `${BASE}/accounts` : `${BASE}/audit`} onClick={onLinkClick}>
        Accountable
      </a>
      <nav aria-label="Main">
        {me && (
          <a href={`${BASE}/accounts`} onClick={onLinkClick} aria-current={current('accounts')}>
            Accounts
          </a>
        )}
        <a href={`${BASE}/audit`} onClick={onLinkClick} aria-current={current('audit')}>
          Audit trail
        </a>
      </nav>
      <div class="who">
        {me ? (
          <span class="who-name" title={me.sid}>
            {me.friendly_name}
          </span>
        ) : (
          credentials.kind === 'api-key' && (
            <span class="who-name" title={credentials.accountSid}>
              API key {credentials.keySid}
            </span>
          )
        )}
        <button type="button" class="secondary small" onClick={() => signOut()}>
          Sign out
        </button>
      </div>
    </header>
  );
}

