import { useEffect, useRef, useState } from 'preact/hooks';
import { ACCOUNT_SID, API_KEY_SID, type Credentials } from '../api/credentials';
import { ApiError } from '../api/client';
import { describeError } from '../components/error-message';

export function SignInPage({ notice, onSignIn }: { notice: string | null; onSignIn(credentials: Credentials): Promise<void> }) {
  const [accountSid, setAccountSid] = useState('');
  const [authToken, setAuthToken] = useState('');
  /** Signing in with an API key (SK… and its secret) rather than the account's auth token. */
  const [withKey, setWithKey] = useState(false);
  const [keySid, setKeySid] = useState('');
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<{ field: 'sid' | 'token' | 'key' | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const sidInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = 'Sign in — Accountable console';
    sidInput.current?.focus();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const sid = accountSid.trim();
    if (!ACCOUNT_SID.test(sid)) return setProblem({ field: 'sid', message: 'An account SID is AC followed by 32 characters 0–9 and a–f.' });
    const key = keySid.trim();
    if (withKey && !API_KEY_SID.test(key)) return setProblem({ field: 'key', message: 'An API key SID is SK followed by 32 characters 0–9 and a–f.' });
    if (withKey ? !secret : !authToken) return setProblem({ field: 'token', message: withKey ? 'Enter the API key’s secret.' : 'Enter the auth token.' });
    setBusy(true);
    setProblem(null);
    try {
      await onSignIn(withKey ? { kind: 'api-key', accountSid: sid, keySid: key, secret } : { kind: 'auth-token', accountSid: sid, authToken });
    } catch (error) {
      setProblem({ field: null, message: signInProblem(error, withKey) });
      setBusy(false);
    }
  };

  return (
    <main class="sign-in" id="main">
      <h1>Accountable console</h1>
      <p class="lede">Your accounts, their audit trail and their history, as the API lets your account see them.</p>
      {notice && (
        <p class="message notice" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={submit} noValidate aria-describedby="sign-in-note">
        <label for="account-sid">Account SID</label>
        <input
          id="account-sid"
          ref={sidInput}
          name="username"
          autocomplete="username"
          spellcheck={false}
          autocapitalize="off"
          value={accountSid}
          onInput={(e) => setAccountSid(e.currentTarget.value)}
          aria-invalid={problem?.field === 'sid'}
          aria-describedby={problem?.field === 'sid' ? 'sign-in-problem' : 'account-sid-hint'}
        />
        <p id="account-sid-hint" class="hint">
          AC followed by 32 characters
        </p>
        {withKey ? (
          <>
            <label for="key-sid">API key SID</label>
            <input
              id="key-sid"
              spellcheck={false}
              autocapitalize="off"
              autocomplete="off"
              value={keySid}
              onInput={(e) => setKeySid(e.currentTarget.value)}
              aria-invalid={problem?.field === 'key'}
              aria-describedby={problem?.field === 'key' ? 'sign-in-problem' : 'key-sid-hint'}
            />
            <p id="key-sid-hint" class="hint">
              SK followed by 32 characters. A key shows the audit trail only.
            </p>
            <label for="key-secret">API key secret</label>
            <input
              id="key-secret"
              type="password"
              autocomplete="off"
              value={secret}
              onInput={(e) => setSecret(e.currentTarget.value)}
              aria-invalid={problem?.field === 'token'}
              aria-describedby={problem?.field === 'token' ? 'sign-in-problem' : undefined}
            />
          </>
        ) : (
          <>
            <label for="auth-token">Auth token</label>
            <input
              id="auth-token"
              type="password"
              name="password"
              autocomplete="current-password"
              value={authToken}
              onInput={(e) => setAuthToken(e.currentTarget.value)}
              aria-invalid={problem?.field === 'token'}
              aria-describedby={problem?.field === 'token' ? 'sign-in-problem' : undefined}
            />
          </>
        )}
        {problem && (
          <p id="sign-in-problem" class="message error" role="alert">
            {problem.message}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setWithKey(!withKey);
            setProblem(null);
          }}
        >
          {withKey ? 'Use the auth token instead' : 'Use an API key instead'}
        </button>
      </form>
      <p id="sign-in-note" class="hint">
        The SIDs and the token or secret stay in this browser tab only and go with each request to this service. Signing out or closing the tab forgets
        them.
      </p>
    </main>
  );
}

function signInProblem(error: unknown, withKey: boolean): string {
  if (error instanceof ApiError && error.status === 401) {
    if (/not active/i.test(error.message)) return `This account cannot sign in: ${error.message}.`;
    return withKey ? 'The API key SID or secret is wrong, or the key was deleted.' : 'The account SID or the auth token is wrong.';
  }
  const { title, message } = describeError(error);
  return `${title}. ${message}`;
}
