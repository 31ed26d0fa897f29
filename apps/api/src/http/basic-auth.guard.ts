import { createParamDecorator, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AccountReader, type Caller } from '@accountable/accounts';
import { safeEqual, SecretBox } from '@accountable/secrets';
import { isAccountSid, TwilioErrors } from '@accountable/twilio';

type AuthenticatedRequest = FastifyRequest & { caller?: Caller };

/**
 * HTTP Basic: username = account sid, password = its auth token. Looked up on the primary so a
 * subaccount's credentials work the moment its creation was acknowledged. Every failure looks
 * the same to the client (20003), except an inactive account, which is told so.
 */
@Injectable()
export class BasicAuthGuard implements CanActivate {
  constructor(
    private readonly reader: AccountReader,
    private readonly box: SecretBox,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credentials = parseBasic(request.headers.authorization);
    if (!credentials || !isAccountSid(credentials.username)) throw TwilioErrors.unauthorized();
    const row = await this.reader.findRow(credentials.username, true);
    const token = row ? this.box.open(row.auth_token, row.sid) : '';
    // Compared even when the account is unknown, so timing does not tell which sids exist.
    const matches = safeEqual(credentials.password, token || '0'.repeat(32));
    if (!row || !matches) throw TwilioErrors.unauthorized();
    if (row.status !== 'active') throw TwilioErrors.unauthorized(`Authentication Error - account ${row.sid} is not active (${row.status})`);
    request.caller = { sid: row.sid, isMain: row.is_main };
    return true;
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
