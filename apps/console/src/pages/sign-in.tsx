import type { Ref } from 'preact';
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
        <Field
          id="account-sid"
          label="Account SID"
          hint="AC followed by 32 characters"
          invalid={problem?.field === 'sid'}
          inputRef={sidInput}
          name="username"
          autocomplete="username"
          value={accountSid}
          onValue={setAccountSid}
        />
        {withKey ? (
          <>
            <Field
              id="key-sid"
              label="API key SID"
              hint="SK followed by 32 characters. A key shows the audit trail only."
              invalid={problem?.field === 'key'}
              autocomplete="off"
              value={keySid}
              onValue={setKeySid}
            />
            <Field id="key-secret" label="API key secret" invalid={problem?.field === 'token'} secret autocomplete="off" value={secret} onValue={setSecret} />
          </>
        ) : (
          <Field
            id="auth-token"
            label="Auth token"
            invalid={problem?.field === 'token'}
            secret
            name="password"
            autocomplete="current-password"
            value={authToken}
            onValue={setAuthToken}
          />
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

interface FieldProps {
  id: string;
  label: string;
  /** Describes the field while it is valid; an invalid one is described by the form's problem. */
  hint?: string;
  invalid: boolean;
  /** A token or a key's secret: masked. Otherwise a SID, which no spell checker or capitalization should touch. */
  secret?: boolean;
  name?: string;
  autocomplete: string;
  value: string;
  onValue(value: string): void;
  inputRef?: Ref<HTMLInputElement>;
}

/** One labelled input, for the auth token's sign-in and the API key's alike. */
function Field({ id, label, hint, invalid, secret, name, autocomplete, value, onValue, inputRef }: FieldProps) {
  return (
    <>
      <label for={id}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        {...(secret ? { type: 'password' as const } : { spellcheck: false, autocapitalize: 'off' })}
        name={name}
        autocomplete={autocomplete}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-invalid={invalid}
        aria-describedby={invalid ? 'sign-in-problem' : hint ? `${id}-hint` : undefined}
      />
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
    </>
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
