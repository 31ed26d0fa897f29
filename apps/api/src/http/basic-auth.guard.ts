import { createParamDecorator, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AccountReader, type Caller, type GetAccountQuery } from '@accountable/accounts';
import { safeEqual, SecretBox } from '@accountable/secrets';
import { isAccountSid, TwilioErrors } from '@accountable/twilio';
import { VerifiedCredentials } from './verified-credentials';

/** The named account's row as authentication read it; see NamesAccount. */
type NamedAccountRow = GetAccountQuery['row'];
type AccountRow = NonNullable<NamedAccountRow>;

type AuthenticatedRequest = FastifyRequest & { caller?: Caller; namedAccount?: NamedAccountRow };

/** From a route's path parameters, the sid of the account it serves; null when it cannot be one. */
export type AccountSidOfParams = (params: Record<string, string>) => string | null;

const NAMES_ACCOUNT = 'accountable:names-account';

/**
 * The route serves one account, named in its path: the guard reads that account's row in the
 * same statement as the caller's and hands it to the handler (NamedAccount), for this request only.
 */
export const NamesAccount = (sidOf: AccountSidOfParams) => SetMetadata(NAMES_ACCOUNT, sidOf);

/** Distinct credentials whose successful check is remembered (a few hundred bytes each). */
const VERIFIED_CAPACITY = 10_000;

/**
 * HTTP Basic: username = account sid, password = its auth token. Looked up on the primary so a
 * subaccount's credentials work the moment its creation was acknowledged, and a suspension or a
 * new token takes effect at once. Every failure looks the same to the client (20003), except an
 * inactive account, which is told so.
 */
@Injectable()
export class BasicAuthGuard implements CanActivate {
  private readonly verified = new VerifiedCredentials(VERIFIED_CAPACITY);

  constructor(
    private readonly reader: AccountReader,
    private readonly box: SecretBox,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials || !isAccountSid(credentials.username)) throw TwilioErrors.unauthorized();
    const sidOf = this.reflector.get<AccountSidOfParams | undefined>(NAMES_ACCOUNT, context.getHandler());
    const namedSid = sidOf?.(request.params as Record<string, string>) ?? undefined;
    const { caller: row, named } = await this.reader.findForAuthentication(credentials.username, namedSid);
    const matches = this.passwordMatches(row, credentials.password);
    if (!row || !matches) throw TwilioErrors.unauthorized();
    if (row.status !== 'active') throw TwilioErrors.unauthorized(`Authentication Error - account ${row.sid} is not active (${row.status})`);
    request.caller = { sid: row.sid, isMain: row.is_main };
    request.namedAccount = named;
    return true;
  }

  /** A repeated success needs no decryption (VerifiedCredentials); anything else is checked in full. */
  private passwordMatches(row: AccountRow | undefined, password: string): boolean {
    if (row && this.verified.has(row.sid, row.auth_token, password)) return true;
    const token = row ? this.box.open(row.auth_token, row.sid) : '';
    // Compared even when the account is unknown, so timing does not tell which sids exist.
    const matches = safeEqual(password, token || '0'.repeat(32));
    if (row && matches) this.verified.add(row.sid, row.auth_token, password);
    return matches;
  }
}

function parseBasic(header: string | undefined): { username: string; password: string } | null {
  if (!header) return null;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The authenticated account (set by BasicAuthGuard). */
export const AuthCaller = createParamDecorator((_: unknown, context: ExecutionContext): Caller => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().caller!;
});

/**
 * The row of the account the route names (NamesAccount), when BasicAuthGuard read it with the
 * caller's: null, no such account; undefined, not read (the handler reads it itself).
 */
export const NamedAccount = createParamDecorator((_: unknown, context: ExecutionContext): NamedAccountRow => {
  return context.switchToHttp().getRequest<AuthenticatedRequest>().namedAccount;
});
