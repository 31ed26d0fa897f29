import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DatabaseError } from 'pg';
import { TwilioErrors } from '@accountable/twilio';
import { TwilioExceptionFilter } from './twilio-exception.filter';

/** What the filter answered: status, headers and body, as a reply stub records them. */
function answer(exception: unknown, url = '/2010-04-01/Accounts.json'): { status: number; headers: Record<string, string>; body: any } {
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
  const request = { url, method: 'GET' };
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

  it('answers in the format the path asks for: XML without a suffix or with .xml, CSV with .csv, JSON on /v1', () => {
    const error = TwilioErrors.methodNotAllowed('DELETE', ['GET', 'HEAD', 'POST']);
    for (const url of ['/2010-04-01/Accounts?x=1', '/2010-04-01/Accounts/AC1.xml']) {
      const sent = answer(error, url);
      expect([sent.status, sent.headers['content-type'], sent.headers.allow]).toEqual([405, 'application/xml; charset=utf-8', 'GET, HEAD, POST']);
      expect(sent.body).toBe(
        '<?xml version="1.0"?><TwilioResponse><RestException><Status>405</Status><Message>Method DELETE not allowed</Message><Code>20004</Code><MoreInfo>https://www.twilio.com/docs/errors/20004</MoreInfo></RestException></TwilioResponse>',
      );
    }
    expect(answer(error, '/2010-04-01/Accounts.csv').body).toBe(
      'Status,Message,Code,MoreInfo\r\n405,Method DELETE not allowed,20004,https://www.twilio.com/docs/errors/20004\r\n',
    );
    expect(answer(error, '/v1/Events.xml').body).toEqual(error.toBody());
  });
});
