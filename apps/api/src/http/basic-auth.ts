import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { rowReadAhead, type AccountReader, type AccountRepository, type AccountsReadAhead, type ApiKeyReader, type Caller, type GetAccountQuery } from '@accountable/accounts';
import { apiKeySecretMatches, safeEqual, type Keyring } from '@accountable/secrets';
import { isAccountSid, isApiKeySid, TwilioErrors } from '@accountable/twilio';
import type { RateLimits } from './rate-limits';
import { VerifiedCredentials } from './verified-credentials';

/** The named account's row as authentication read it; see Authenticated. */
type NamedAccountRow = GetAccountQuery['row'];
type AccountRow = NonNullable<NamedAccountRow>;

/** A request after BasicAuthentication: its caller, and the named account's row when it was read with it. */
export type AuthenticatedRequest = FastifyRequest & { caller?: Caller; namedAccount?: NamedAccountRow; readAhead?: AccountsReadAhead };

/** From a route's path parameters, the sid of the account it serves; null when it cannot be one. */
export type AccountSidOfParams = (params: Record<string, string>) => string | null;

/** The route's Fastify config key: present on every route that needs credentials. */
const AUTHENTICATION = 'basicAuth';

interface AuthenticationRoute {
  namesAccount?: AccountSidOfParams;
  /** A standard API key (`SK…` and its secret) may call this route: not Accounts, Keys or AuthTokens. */
  apiKeys?: boolean;
  /**
   * The route runs an accounts command on the caller and the named account: their credentials
   * are read with the command's decision state (AccountRepository.readAhead), in one statement.
   */
  command?: boolean;
}

/**
 * The route needs Basic credentials, checked in a Fastify `onRequest` hook (BasicAuthentication):
 * before its body is read, so a request without valid credentials costs no parsing. With
 * `namesAccount`, the route serves the one account its path names: that account's row is read in
 * the same statement as the caller's and handed to the handler (NamedAccount), for this request only.
 */
export const Authenticated = (namesAccount?: AccountSidOfParams, options: { apiKeys?: boolean; command?: boolean } = {}) =>
  RouteConfig({ [AUTHENTICATION]: { namesAccount, apiKeys: options.apiKeys === true, command: options.command === true } satisfies AuthenticationRoute });

/** Distinct credentials whose successful check is remembered (a few hundred bytes each). */
const VERIFIED_CAPACITY = 10_000;

/**
 * HTTP Basic: username = account sid, password = its auth token. Looked up on the primary so a
 * subaccount's credentials work the moment its creation was acknowledged, and a suspension or a
 * new token takes effect at once. Every failure looks the same to the client (20003), except an
 * inactive account, which is told so. Failed checks, and each account's requests, are counted
 * (RateLimits): over a limit, 429 20429.
 */
export class BasicAuthentication {
  private readonly verified = new VerifiedCredentials(VERIFIED_CAPACITY);

  constructor(
    private readonly reader: AccountReader,
    private readonly repository: AccountRepository,
    private readonly apiKeys: ApiKeyReader,
    private readonly keyring: Keyring,
    private readonly limits: RateLimits,
  ) {}

  /** Fastify `onRequest`: routing has happened (params are there), the body has not been read. */
  readonly onRequest = async (request: FastifyRequest): Promise<void> => {
    const route = (request.routeOptions.config as { [AUTHENTICATION]?: AuthenticationRoute } | undefined)?.[AUTHENTICATION];
    if (route) await this.authenticate(request as AuthenticatedRequest, route);
  };

  private async authenticate(request: AuthenticatedRequest, route: AuthenticationRoute): Promise<void> {
    // No credentials at all is the challenge step of a client that waits for WWW-Authenticate;
    // it costs nothing, so it is not counted as a failure.
    if (request.headers.authorization === undefined) throw TwilioErrors.unauthorized();
    const credentials = parseBasic(request.headers.authorization);
    if (credentials && isApiKeySid(credentials.username)) return this.authenticateKey(request, route, credentials.username, credentials.password);
    const sid = credentials && isAccountSid(credentials.username) ? credentials.username : null;
    const password = credentials?.password ?? '';
    await this.limits.admitAttempt(request, sid, password);
    if (!sid) return this.fail(request, null);
    const namedSid = route.namesAccount?.(request.params as Record<string, string>) ?? undefined;
    const { caller: row, named, readAhead } = route.command
      ? await this.readForCommand(sid, namedSid)
      : { ...(await this.reader.findForAuthentication(sid, namedSid)), readAhead: undefined };
    const matches = this.passwordMatches(row, password);
    if (!row || !matches) return this.fail(request, sid);
    // The right password: not a failure even for an inactive account (nothing was guessed), but
    // a request of that account, counted against its rate like any other.
    this.limits.succeeded(sid, password);
    await this.limits.admitRequest(request, sid);
    if (row.status !== 'active') throw TwilioErrors.unauthorized(`Authentication Error - account ${row.sid} is not active (${row.status})`);
    request.caller = { sid: row.sid, isMain: row.is_main };
    request.namedAccount = named;
    request.readAhead = readAhead;
  }

  /**
   * A command route: the caller's and the named account's rows come with what the command
   * decides on (each one's owner, stream version, keys, the events' time), so that the command
   * need not read again: a create is this read and its commit.
   */
  private async readForCommand(callerSid: string, namedSid: string | undefined) {
    const readAhead = await this.repository.readAhead(namedSid !== undefined && namedSid !== callerSid ? [callerSid, namedSid] : [callerSid], true);
    return {
      caller: rowReadAhead(readAhead, callerSid),
      named: namedSid === undefined ? undefined : (rowReadAhead(readAhead, namedSid) ?? null),
      readAhead,
    };
  }

  /**
   * A standard API key: the caller is the key's account. Checked in full every time (one HMAC
   * against the stored verifier, no cache), on the primary, so a deleted key fails on the next
   * request in every process. Failures count toward the limits under the key's sid, as an
   * account's do under its sid. A valid key on a route closed to keys is 401 20003, as Twilio
   * answers, and is not counted as a failure (nothing was guessed).
   */
  private async authenticateKey(request: AuthenticatedRequest, route: AuthenticationRoute, keySid: string, secret: string): Promise<void> {
    await this.limits.admitAttempt(request, keySid, secret);
    const key = await this.apiKeys.findForAuthentication(keySid);
    // The same work for an unknown key: a verifier that matches nothing.
    const matches = apiKeySecretMatches(key?.verifier ?? '', secret);
    if (!key || !matches) return this.fail(request, keySid);
    this.limits.succeeded(keySid, secret);
    if (!route.apiKeys) throw TwilioErrors.unauthorized('Authenticate');
    const row = key.account;
    await this.limits.admitRequest(request, row.sid);
    if (row.status !== 'active') throw TwilioErrors.unauthorized(`Authentication Error - account ${row.sid} is not active (${row.status})`);
    request.caller = { sid: row.sid, isMain: row.is_main };
    // A route that names an account reads it itself (undefined): none of those admits keys today.
    request.namedAccount = undefined;
  }

  private async fail(request: FastifyRequest, sid: string | null): Promise<never> {
    await this.limits.failed(request, sid);
    throw TwilioErrors.unauthorized();
  }

  /**
   * A repeated success needs no decryption (VerifiedCredentials); anything else is checked in full.
   * A stored token that does not open (its key is not in the keyring, the row was altered) is no
   * token: the request fails as a wrong password does, with the same work (a decryption, then a
   * comparison), as it does for an unknown sid — so no answer or timing tells which sids exist.
   */
  private passwordMatches(row: AccountRow | undefined, password: string): boolean {
    if (this.tokenMatches(row, row?.auth_token, password)) return true;
    // The secondary token authenticates exactly as the primary (one more decryption when it exists).
    return row?.secondary_auth_token != null && this.tokenMatches(row, row.secondary_auth_token, password);
  }

  /**
   * The cache is keyed by the sealed token as the row holds it, and a sealed string only ever
   * opens to one token: a promotion moves the secondary's seal into auth_token, so the old
   * primary's password finds no entry and fails its full check on the next request.
   */
  private tokenMatches(row: AccountRow | undefined, sealed: string | undefined, password: string): boolean {
    if (row && sealed !== undefined && this.verified.has(row.sid, sealed, password)) return true;
    let token: string | null = null;
    if (row && sealed !== undefined) token = this.keyring.tryOpen(sealed, row.sid);
    else this.keyring.openNothing();
    const matches = safeEqual(password, token ?? '0'.repeat(32)) && token !== null;
    if (row && sealed !== undefined && matches) this.verified.add(row.sid, sealed, password);
    return matches;
  }
}

function parseBasic(header: string): { username: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The authenticated account (set by BasicAuthentication); a route without Authenticated fails closed. */
export const AuthCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('AuthCaller on a route without @Authenticated()');
  return caller;
});

/**
 * The row of the account the route names (Authenticated's `namesAccount`), when authentication
 * read it with the caller's: null, no such account; undefined, not read (the handler reads it itself).
 */
export const NamedAccount = createParamDecorator((_: unknown, context: ExecutionContext): NamedAccountRow => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().namedAccount;
});

/** What authentication read ahead for the route's command (Authenticated's `command`); undefined on other routes. */
export const ReadAhead = createParamDecorator((_: unknown, context: ExecutionContext): AccountsReadAhead | undefined => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().readAhead;
});
