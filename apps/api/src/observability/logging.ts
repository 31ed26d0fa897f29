import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream } from 'pino';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '@accountable/config';

type Request = IncomingMessage & { id?: string };

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

/**
 * Structured JSON logs (pino). One line per request, when it completes: method, path, status,
 * duration and the request id — the same id as the `Twilio-Request-Id` header and the
 * `requestId` in the metadata of the events the request caused. Nothing else of the request
 * (headers, bodies, query strings) is logged, so credentials cannot leak through it.
 */
export function loggingParams(config: AppConfig, stream?: DestinationStream): Params {
  return {
    pinoHttp: [
      {
        level: config.LOG_LEVEL,
        // Fastify assigned the id (genReqId in app.factory.ts) and put it on the raw request.
        genReqId: (req) => (req as Request).id ?? 'unknown',
        customAttributeKeys: { responseTime: 'duration_ms' },
        customProps: (req) => ({ request_id: (req as Request).id }),
        serializers: {
          req: (req: Request & { raw?: Request }) => ({ method: req.method, path: (req.url ?? '').split('?')[0] }),
          res: (res: ServerResponse) => ({ status: res.statusCode }),
        },
        customSuccessMessage: (req, res, ms) => `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode} ${Math.round(ms)}ms`,
        customErrorMessage: (req, res) => `${req.method} ${(req.url ?? '').split('?')[0]} ${res.statusCode} failed`,
        customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
        redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
        formatters: { level: (label) => ({ level: label }) },
      },
      stream ?? process.stdout,
    ],
  };
}
