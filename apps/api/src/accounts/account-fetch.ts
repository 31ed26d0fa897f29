import type { QueryBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GetAccountQuery, type Caller } from '@accountable/accounts';
import { accountCsv, accountXml, isAccountSid, MEDIA_TYPES, representationOfPath, toAccountResource, TwilioErrors, withoutSuffix, type AccountResource } from '@accountable/twilio';
import type { AuthenticatedRequest } from '../http/basic-auth';

/** The route of one account, as Nest registers the controller's `@Get('Accounts/:sid')`. */
const FETCH_ROUTE = '/2010-04-01/Accounts/:sid';

/**
 * One account's answer, for the caller that authentication found: the controller's handler and
 * the hook below both give it. `row` is the named account's row as authentication read it
 * (undefined: read it here). Unknown, malformed and not the caller's are all 404.
 */
export async function fetchAccount(queries: QueryBus, caller: Caller, segment: string, row: GetAccountQuery['row'], path: string): Promise<AccountResource> {
  const sid = accountSidOf(segment);
  if (sid === null) throw TwilioErrors.notFound(path);
  const account = await queries.execute(new GetAccountQuery(caller, sid, false, row));
  if (!account) throw TwilioErrors.notFound(path);
  return toAccountResource(account);
}

/** `{Sid}`, `{Sid}.json|.xml|.csv` → the sid; anything else, a malformed sid included, is null. */
export function accountSidOf(segment: string): string | null {
  const sid = withoutSuffix(segment).name;
  return isAccountSid(sid) ? sid : null;
}

/**
 * GET and HEAD of one account, the API's most frequent request, answered in Fastify's preHandler
 * hook: after every onRequest hook, as any route (request id and headers, Basic authentication
 * with its rate limits, which has read the caller's and the account's rows in one statement),
 * but without Nest's router, interceptor, pipes and parameter decorators, which add nothing to
 * this read and cost a quarter of its CPU. The answer is the controller's (`fetchAccount`, the
 * same representations); an error takes the way of every error (the Fastify error handler Nest
 * installs, then TwilioExceptionFilter); the route's response schema serializes the JSON.
 */
export function answerFetchBeforeNest(queries: QueryBus) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (request.routeOptions.url !== FETCH_ROUTE || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined;
    const { caller, namedAccount } = request as AuthenticatedRequest;
    // Authentication always sets it on this route; without it, Nest's handler answers (it fails closed).
    if (!caller) return undefined;
    const path = request.url.split('?')[0];
    const resource = await fetchAccount(queries, caller, (request.params as { sid: string }).sid, namedAccount, path);
    const representation = representationOfPath(path);
    // Returning the reply after send() ends the hook chain: the route's handler does not run.
    if (representation === 'json') return reply.send(resource);
    return reply.header('Content-Type', MEDIA_TYPES[representation]).send(representation === 'xml' ? accountXml(resource) : accountCsv(resource));
  };
}
