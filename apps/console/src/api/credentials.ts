/**
 * What the console signs in with. Kept for this tab only (sessionStorage: it survives a reload,
 * not the tab) and sent by script as an `Authorization` header — never a cookie, so there is no
 * ambient credential for another site to ride on.
 *
 * Either the account's auth token, or an API key (`SK…` + secret) acting for the account. A
 * standard key is accepted on `/v1/Events` only, so a key session offers the audit trail alone.
 */
export type Credentials =
  | { kind: 'auth-token'; accountSid: string; authToken: string }
  | { kind: 'api-key'; accountSid: string; keySid: string; secret: string };

const STORAGE_KEY = 'accountable.console.credentials';

export const ACCOUNT_SID = /^AC[0-9a-f]{32}$/;
export const API_KEY_SID = /^SK[0-9a-f]{32}$/;

/** The Basic auth user and password the API expects for these credentials. */
function basicUser(credentials: Credentials): [user: string, password: string] {
  switch (credentials.kind) {
    case 'auth-token':
      return [credentials.accountSid, credentials.authToken];
    case 'api-key':
      return [credentials.keySid, credentials.secret];
  }
}

export function authorizationHeader(credentials: Credentials): string {
  const [user, password] = basicUser(credentials);
  // btoa takes Latin-1 only; sids and tokens are ASCII, but a pasted character must not throw.
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

export function loadCredentials(): Credentials | null {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<Credentials> | null;
    if (stored?.kind === 'auth-token' && typeof stored.accountSid === 'string' && typeof stored.authToken === 'string') {
      return { kind: 'auth-token', accountSid: stored.accountSid, authToken: stored.authToken };
    }
    if (stored?.kind === 'api-key' && typeof stored.accountSid === 'string' && typeof stored.keySid === 'string' && typeof stored.secret === 'string') {
      return { kind: 'api-key', accountSid: stored.accountSid, keySid: stored.keySid, secret: stored.secret };
    }
  } catch {
    // Storage unavailable or garbled: sign in again.
  }
  return null;
}

export function saveCredentials(credentials: Credentials): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  } catch {
    // Storage refused (private mode, quota): the credentials live in memory until a reload.
  }
}

export function clearCredentials(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was stored.
  }
}
