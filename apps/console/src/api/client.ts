import { authorizationHeader, type Credentials } from './credentials';
import type {
  AccountHistoryPage,
  AccountPage,
  AccountResource,
  AccountStateResource,
  AccountStatus,
  EventsPage,
  TwilioErrorBody,
} from './wire';

/** The API answered with an error (Twilio's envelope). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** Twilio's error code, when the body had one. */
    readonly code: number | null,
    message: string,
    /** Seconds, from `Retry-After` (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

/** The service could not be reached or failed on its side (5xx): not the user's doing. */
export class ServiceUnavailable extends Error {}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  form?: Record<string, string>;
  idempotencyKey?: string;
}

/**
 * The public API, called as any client calls it: the same endpoints, the same credentials, so
 * the console sees exactly what the API lets the signed-in account see.
 */
export class ApiClient {
  constructor(
    readonly credentials: Credentials,
    private readonly base = '',
  ) {}

  get accountSid(): string {
    return this.credentials.accountSid;
  }

  fetchAccount(sid: string): Promise<AccountResource> {
    return this.request('GET', `/2010-04-01/Accounts/${encodeURIComponent(sid)}.json`);
  }

  listAccounts(filters: { FriendlyName?: string; Status?: string; PageSize?: number }): Promise<AccountPage> {
    return this.request('GET', '/2010-04-01/Accounts.json', { query: filters });
  }

  createSubaccount(friendlyName: string, idempotencyKey: string): Promise<AccountResource> {
    return this.request('POST', '/2010-04-01/Accounts.json', { form: friendlyName ? { FriendlyName: friendlyName } : {}, idempotencyKey });
  }

  updateAccount(sid: string, change: { FriendlyName?: string; Status?: AccountStatus }, idempotencyKey: string): Promise<AccountResource> {
    const form = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return this.request('POST', `/2010-04-01/Accounts/${encodeURIComponent(sid)}.json`, { form, idempotencyKey });
  }

  history(sid: string, page: number, pageSize: number): Promise<AccountHistoryPage> {
    return this.request('GET', `/v1/Accounts/${encodeURIComponent(sid)}/History`, { query: { PageSize: pageSize, Page: page } });
  }

  stateAt(sid: string, at: { Version: number } | { AsOf: string }): Promise<AccountStateResource> {
    return this.request('GET', `/v1/Accounts/${encodeURIComponent(sid)}/State`, { query: at });
  }

  listEvents(query: Query): Promise<EventsPage> {
    return this.request('GET', '/v1/Events', { query });
  }

  /**
   * A page URI or URL the API handed out (next/previous page). Only its path and query are
   * used: the console talks to its own origin whatever host an absolute URL names.
   */
  follow<T>(uriOrUrl: string): Promise<T> {
    const url = new URL(uriOrUrl, location.origin);
    return this.request('GET', url.pathname + url.search);
  }

  private async request<T>(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: authorizationHeader(this.credentials) };
    let body: string | undefined;
    if (options.form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
    let url = this.base + path;
    if (options.query) {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(options.query)) if (value !== undefined && value !== '') params.set(name, String(value));
      const search = params.toString();
      if (search) url += (url.includes('?') ? '&' : '?') + search;
    }
    let response: Response;
    try {
      // credentials: 'omit' — no cookies either way, and a 401's WWW-Authenticate can never
      // raise the browser's own sign-in prompt: the header is the only credential.
      response = await fetch(url, { method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error', referrerPolicy: 'no-referrer' });
    } catch {
      throw new ServiceUnavailable('The service cannot be reached. Check that it is running, then try again.');
    }
    const payload = await response.json().catch(() => null);
    if (response.ok) {
      if (payload === null) throw new ServiceUnavailable('The service sent an answer the console cannot read.');
      return payload as T;
    }
    const error = payload as Partial<TwilioErrorBody> | null;
    if (response.status >= 500) {
      throw new ServiceUnavailable(
        response.status === 503 ? 'The service is unavailable right now. Try again in a moment.' : 'The service failed to answer. Try again in a moment.',
      );
    }
    const retryAfter = Number(response.headers.get('Retry-After'));
    throw new ApiError(
      response.status,
      typeof error?.code === 'number' ? error.code : null,
      typeof error?.message === 'string' ? error.message : `The request failed (HTTP ${response.status}).`,
      Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
    );
  }
}

/**
 * A fresh Idempotency-Key per user action, so a double submit or a retry after a lost answer
 * changes nothing twice. getRandomValues works on plain-http hosts, where randomUUID is absent.
 */
export function newIdempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
