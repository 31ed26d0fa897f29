import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAccountRuleError, isIdempotencyKeyReusedError } from '@accountable/accounts';
import { isEventStreamsRuleError } from '@accountable/event-streams';
import {
  errorBody,
  isTwilioError,
  MEDIA_TYPES,
  representationOfPath,
  TwilioError,
  TwilioErrors,
  WWW_AUTHENTICATE,
} from '@accountable/twilio';
import { recordFailure } from '../observability/logging';
import { twilioErrorOfEventStreamsRule, twilioErrorOfRule } from './rule-errors';

/**
 * PostgreSQL SQLSTATEs and socket errors that mean "the database cannot serve this now": a lost
 * connection (class 08), a shutdown (57P01–57P03), insufficient resources (class 53: a full disk,
 * out of memory, too many connections), and a statement cancelled by its timeout (57014).
 */
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|57014$|53)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * The one place errors become HTTP: every failure leaves as Twilio's envelope
 * `{code, message, more_info, status}` — under `/2010-04-01` in the format the URL's suffix asks
 * for (a `<RestException>` in XML, one CSV row), as Twilio answers. Client mistakes are 4xx with
 * their Twilio code; only our own faults are 500, and a lost database is 503.
 */
@Catch()
export class TwilioExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    // A failed health check keeps terminus' own body (probes read it); anything else on /health
    // (an unknown path or method) is an error like any other.
    if (exception instanceof HttpException && exception.getStatus() === 503 && request.url.startsWith('/health')) {
      void reply.status(exception.getStatus()).send(exception.getResponse());
      return;
    }
    const error = this.toTwilioError(exception, request);
    if (error.status >= 500) recordFailure(request, exception);
    if (error.status === 401) void reply.header('WWW-Authenticate', WWW_AUTHENTICATE);
    if (error.retryAfterS !== undefined) void reply.header('Retry-After', String(error.retryAfterS));
    if (error.allow !== undefined) void reply.header('Allow', error.allow);
    const representation = representationOfPath(pathOf(request));
    const body = representation === 'json' ? error.toBody() : errorBody(error, representation);
    void reply.status(error.status).header('Content-Type', MEDIA_TYPES[representation]).send(body);
  }

  private toTwilioError(exception: unknown, request: FastifyRequest): TwilioError {
    if (isTwilioError(exception)) return exception;
    if (isAccountRuleError(exception)) return twilioErrorOfRule(exception, pathOf(request));
    if (isEventStreamsRuleError(exception)) return twilioErrorOfEventStreamsRule(exception, pathOf(request));
    if (isIdempotencyKeyReusedError(exception)) return TwilioErrors.idempotencyKeyReused(exception.message);
    if (exception instanceof HttpException) return this.fromHttpException(exception, request);
    const fastifyCode = (exception as { code?: string; statusCode?: number })?.code;
    const statusCode = (exception as { statusCode?: number })?.statusCode;
    // A path the router cannot decode, or with a segment no sid could fill, names no resource.
    if (fastifyCode === 'FST_ERR_BAD_URL' || fastifyCode === 'FST_ERR_MAX_PARAM_LENGTH') return TwilioErrors.notFound(pathOf(request));
    if (typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_') && statusCode && statusCode < 500) {
      return new TwilioError(statusCode, 20002, (exception as Error).message);
    }
    if (isDatabaseUnavailable(exception)) return TwilioErrors.unavailable('The service is temporarily unavailable; retry shortly');
    return TwilioErrors.internal();
  }

  private fromHttpException(exception: HttpException, request: FastifyRequest): TwilioError {
    const status = exception.getStatus();
    if (status === 404) return TwilioErrors.notFound(pathOf(request));
    if (status === 405) return TwilioErrors.methodNotAllowed(request.method);
    if (status === 401) return TwilioErrors.unauthorized();
    if (status === 413) return new TwilioError(413, 20002, 'Request body too large');
    if (status === 415) return new TwilioError(415, 20002, 'Unsupported Content-Type: send application/x-www-form-urlencoded or application/json');
    if (status >= 400 && status < 500) return new TwilioError(status, 20002, exception.message || 'Invalid request');
    return TwilioErrors.internal();
  }
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: string; errno?: string; message?: string } | undefined;
  if (!e) return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_SQLSTATE.test(e.code) || UNAVAILABLE_ERRNO.has(e.code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(e.message ?? '');
}
