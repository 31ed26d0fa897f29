import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type ApiClient } from './api/client';
import type { AccountResource } from './api/wire';

export interface Session {
  client: ApiClient;
  /**
   * The signed-in account, as the API showed it at sign-in; null when signed in with an API key,
   * which may not read accounts (the key session offers the audit trail only).
   */
  me: AccountResource | null;
  /** Forgets the credentials; `reason` is shown on the sign-in page. */
  signOut(reason?: string): void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** For the pages an auth-token session only reaches (accounts, history): the account is known. */
export function useAccountSession(): Session & { me: AccountResource } {
  const session = useSession();
  if (!session.me) throw new Error('useAccountSession in an API key session');
  return session as Session & { me: AccountResource };
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload(): void;
}

/**
 * Runs `load` when `deps` change and keeps its latest answer. A 401 in the middle of a session
 * (token changed, account suspended) ends the session: the credentials no longer work.
 */
export function useLoad<T>(load: (client: ApiClient) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const { client, signOut } = useSession();
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const call = ++latest.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    load(client).then(
      (data) => call === latest.current && setState({ data, error: null, loading: false }),
      (error: unknown) => {
        if (call !== latest.current) return;
        if (isUnauthorized(error)) return signOut(signedOutReason(error));
        setState({ data: null, error, loading: false });
      },
    );
    // `deps` name everything `load` reads besides the client.
  }, [client, generation, ...deps]);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}

export const isUnauthorized = (error: unknown): error is ApiError => error instanceof ApiError && error.status === 401;

export function signedOutReason(error: ApiError): string {
  return /not active/i.test(error.message)
    ? `You were signed out: ${error.message}.`
    : 'You were signed out: the service no longer accepts these credentials.';
}
