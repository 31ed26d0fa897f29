import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

/** Anything that could carry a credential, wherever it turns up in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  '*.auth_token',
  '*.authToken',
  '*.password',
  '*.ENCRYPTION_KEY',
];

/** The process's one logger: JSON lines (pino), credentials redacted wherever they would appear. */
export function createLogger(level: string, stream?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    stream ?? process.stdout,
  );
}

/**
 * Nest's own logs (start-up, projector) go through nestjs-pino to `logger`. Its request
 * middleware (pino-http) is not mounted (`forRoutes: []`): it makes child loggers and an
 * AsyncLocalStorage context for every request, at any level, and nothing logs inside a request
 * but the request line of logRequests.
 */
export function loggingParams(logger: Logger): Params {
  return { pinoHttp: { logger }, forRoutes: [] };
}

const failures = new WeakMap<FastifyRequest, unknown>();

/** Our own fault behind a 5xx answer: logged with the request's line (see logRequests). */
export function recordFailure(request: FastifyRequest, error: unknown): void {
  failures.set(request, error);
}

/**
 * One line per request, when it completes: method, path, status, duration and the request id —
 * the same id as the `Twilio-Request-Id` header and the `requestId` in the metadata of the events
 * the request caused. Nothing else of the request (headers, bodies, query strings) is logged, so
 * credentials cannot leak through it. A 5xx is logged at `error` with the failure behind it.
 * Below the configured level nothing is built at all.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    const level: Level = status >= 500 ? 'error' : 'info';
    if (logger.isLevelEnabled(level)) {
      const path = request.url.split('?')[0];
      const ms = Math.round(reply.elapsedTime);
      const failure = failures.get(request);
      logger[level](
        {
          req: { method: request.method, path },
          request_id: request.id,
          res: { status },
          duration_ms: ms,
          // pino's `err` serializer: type, message, stack.
          ...(failure !== undefined && { err: failure }),
        },
        `${request.method} ${path} ${status} ${level === 'error' ? 'failed' : `${ms}ms`}`,
      );
    }
    done();
  });
}
