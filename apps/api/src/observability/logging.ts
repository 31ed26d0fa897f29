import type { LoggerService } from '@nestjs/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Params } from 'nestjs-pino';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';

/** `json`: pino's lines, for collectors. `pretty`: short human lines, for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT when set; otherwise pretty only when stdout is a terminal (piped or redirected: JSON). */
export function resolveLogFormat(configured: LogFormat | undefined, stdoutIsTTY = process.stdout.isTTY === true): LogFormat {
  return configured ?? (stdoutIsTTY ? 'pretty' : 'json');
}

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
  '*.LEDGER_SIGNING_KEY',
];

/**
 * The process's one logger: JSON lines (pino), credentials redacted wherever they would appear.
 * `pretty` renders the same objects — redacted first — as one short line each.
 */
export function createLogger(level: string, stream?: DestinationStream, format: LogFormat = 'json'): Logger {
  const destination = stream ?? process.stdout;
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'pretty' ? prettyDestination(destination) : destination,
  );
}

/**
 * pino-pretty's formatter used in-process and synchronously (not as a transport in a worker
 * thread), so its lines and the start-up block written straight to stdout keep their order.
 * Colours follow the terminal (NO_COLOR and FORCE_COLOR are honoured).
 */
function prettyDestination(destination: DestinationStream): DestinationStream {
  const options = { translateTime: 'SYS:HH:MM:ss', messageFormat: '{if context}{context}: {end}{msg}', singleLine: true, ignore: 'pid,hostname,context' };
  // The message says what happened; the fields beside it are for machines. An error's are not:
  // its type, message and stack are shown under the line.
  const brief = prettyFactory({ ...options, hideObject: true });
  const withError = prettyFactory({ ...options, singleLine: false });
  return {
    write(line: string) {
      const record = JSON.parse(line) as { level: unknown; time: unknown; msg?: unknown; context?: unknown; err?: unknown };
      const { level, time, msg, context, err } = record;
      const text = err === undefined ? brief(record) : withError({ level, time, msg, context, err });
      // pino-pretty leaves out the line's end when hideObject hid everything after the message.
      destination.write(text.endsWith('\n') ? text : `${text}\n`);
    },
  };
}

/** Nest's report of each module initialised and each route mapped: one line apiece, all routine. */
const FRAMEWORK_CHATTER = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * Nest's start-up chatter at debug instead of info; everything else as it comes. Used for the
 * terminal, where those forty lines would bury the two a person needs. In JSON they stay at
 * info, as before: collectors and dashboards may count on them.
 */
export class FrameworkChatterAtDebug implements LoggerService {
  constructor(private readonly inner: LoggerService) {}

  log(message: unknown, ...rest: unknown[]): void {
    const context = rest.at(-1);
    if (typeof context === 'string' && FRAMEWORK_CHATTER.has(context)) this.inner.debug?.(message, ...rest);
    else this.inner.log(message, ...rest);
  }

  error(message: unknown, ...rest: unknown[]): void {
    this.inner.error(message, ...rest);
  }

  warn(message: unknown, ...rest: unknown[]): void {
    this.inner.warn(message, ...rest);
  }

  debug(message: unknown, ...rest: unknown[]): void {
    this.inner.debug?.(message, ...rest);
  }

  verbose(message: unknown, ...rest: unknown[]): void {
    this.inner.verbose?.(message, ...rest);
  }

  fatal(message: unknown, ...rest: unknown[]): void {
    this.inner.fatal?.(message, ...rest);
  }
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
