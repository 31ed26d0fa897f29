import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseError } from 'pg';
import { TwilioErrors } from '@accountable/twilio';
import { TwilioExceptionFilter } from './twilio-exception.filter';

/** What the filter answered: status, headers and body, as a reply stub records them. */
function answer(exception: unknown): { status: number; headers: Record<string, string>; body: any } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: undefined as any };
  const reply = {
    status(code: number) {
      sent.status = code;
      return reply;
    },
    header(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
      return reply;
    },
    send(body: unknown) {
      sent.body = body;
      return reply;
    },
  };
  const request = { url: '/2010-04-01/Accounts.json', method: 'GET' };
  new TwilioExceptionFilter().catch(exception, new ExecutionContextHost([request as FastifyRequest, reply as unknown as FastifyReply]));
  return sent;
}

function postgresError(code: string): DatabaseError {
  const error = new DatabaseError(`error ${code}`, 0, 'error');
  error.code = code;
  return error;
}

describe('TwilioExceptionFilter', () => {
  it.each([
    ['57014', 'a statement cancelled by statement_timeout'],
    ['53100', 'a full disk'],
    ['53200', 'out of memory'],
    ['53300', 'too many connections'],
    ['57P01', 'an administrator shutdown'],
    ['08006', 'a lost connection'],
  ])('SQLSTATE %s (%s) → 503 20503 in the envelope', (code) => {
    const sent = answer(postgresError(code));
    expect(sent.status).toBe(503);
    expect(sent.body).toEqual({ code: 20503, message: expect.any(String), more_info: 'https://www.twilio.com/docs/errors/20503', status: 503 });
  });

  it.each(['23505', '42P01', '57000'])('SQLSTATE %s (our fault) → 500 20500', (code) => {
    expect(answer(postgresError(code))).toMatchObject({ status: 500, body: { code: 20500 } });
  });

  it('a 429 carries Retry-After; other answers do not', () => {
    expect(answer(TwilioErrors.tooManyRequests(7))).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body: { code: 20429, status: 429 } });
    expect(answer(TwilioErrors.unauthorized()).headers['retry-after']).toBeUndefined();
  });
});
