import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { QueryBus } from '@nestjs/cqrs';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Logger } from 'nestjs-pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { AccountReader, AccountRepository, ApiKeyReader } from '@accountable/accounts';
import type { AppConfig } from '@accountable/config';
import type { Runtime } from '@accountable/platform';
import { errorBody, MEDIA_TYPES, representationOfPath, TwilioError, type Representation } from '@accountable/twilio';
import { answerFetchBeforeNest } from './accounts/account-fetch';
import { AppModule, type ProcessRole } from './app.module';
import { BasicAuthentication } from './http/basic-auth';
import { registerBodyParsers } from './http/body-parsers';
import { limitConnections } from './http/connection-limits';
import { RateLimits } from './http/rate-limits';
import { TwilioExceptionFilter } from './http/twilio-exception.filter';
import { createLogger, FrameworkChatterAtDebug, logRequests, type LogFormat } from './observability/logging';
import { HttpMetrics } from './observability/metrics.service';
import { serveConsole } from './console/serve-console';
import { setUpOpenApi } from './openapi/openapi';

export interface ApiAppOptions {
  role?: ProcessRole;
  /** false: no logs at all (most tests). */
  logger?: false;
  /** Where the JSON logs go; stdout by default. */
  logStream?: DestinationStream;
  /** The process's logger, made before the app (main.ts logs the database's start-up with it). */
  log?: { logger: PinoLogger; format: LogFormat };
  /**
   * Serve Swagger UI and the OpenAPI document (default true). The in-process e2e tests turn it
   * off: @fastify/static pulls in an ESM-only package that jest's CommonJS runtime cannot load.
   * The document itself is tested against the built service in its own process.
   */
  openApi?: boolean;
  /**
   * Serve the browser console at /console. Defaults to `openApi`'s value: both are served
   * through @fastify/static, which the in-process tests cannot load.
   */
  console?: boolean;
}

/** Builds the application on an open runtime; used by main.ts and the e2e tests. */
export async function createApiApp(runtime: Runtime, options: ApiAppOptions = {}): Promise<NestFastifyApplication> {
  const config = runtime.config;
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_BODY_BYTES,
    ...serverTimeouts(config),
    // Twilio's request id format (RQ + 32 hex); it also goes into the log line and the events'
    // metadata. randomUUID draws from a cached block of entropy, randomBytes makes a call each time.
    genReqId: () => `RQ${randomUUID().replaceAll('-', '')}`,
    trustProxy: config.TRUST_PROXY,
    // While closing, a request that still arrives on an open connection is served (with
    // `Connection: close`), not refused with Fastify's own 503 body: a graceful shutdown drains,
    // and every answer is Twilio's envelope.
    return503OnClosing: false,
    // The router refuses some paths before any hook or Nest handler runs (a malformed
    // percent-escape, a segment over maxParamLength) and would answer with its own body: handed
    // to the one exception filter directly, with the request id the hook below would have set.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      void reply.header('Twilio-Request-Id', request.id);
      new TwilioExceptionFilter().catch(error, new ExecutionContextHost([request, reply]));
    },
    // Node's HTTP parser refuses some requests before there is a request at all (a raw byte
    // above 0x7F in the URL, a malformed header line): answered in Twilio's envelope too, not
    // Fastify's own body.
    clientErrorHandler: answerClientError,
  });
  // Set first thing, so every response carries them, errors and 404s included. Answers carry
  // auth tokens: no cache may keep one, and no browser may read one as anything but JSON.
  adapter.getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header('Twilio-Request-Id', request.id).header('Cache-Control', 'no-store').header('X-Content-Type-Options', 'nosniff');
    done();
  });
  const httpMetrics = new HttpMetrics();
  adapter.getInstance().addHook('onResponse', (request, reply, done) => {
    httpMetrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  const logger =
    options.logger === false
      ? createLogger('silent')
      : (options.log?.logger ?? createLogger(runtime.config.LOG_LEVEL, options.logStream));
  logRequests(adapter.getInstance(), logger);
  registerBodyParsers(adapter.getInstance(), { maxParameters: config.MAX_PARAMETERS, maxJsonDepth: config.MAX_JSON_DEPTH });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRuntime(runtime, { role: options.role, httpMetrics, logger }),
    adapter,
    { bufferLogs: options.logger !== false, logger: options.logger, abortOnError: false, bodyParser: false },
  );
  // Credentials are checked in an onRequest hook, before any body is read; routes are added by
  // app.init() below, and take the hook with them.
  await app.register(fastifyRateLimit, { global: false });
  const limits = new RateLimits(adapter.getInstance(), {
    requestsPerAccount: config.RATE_LIMIT_REQUESTS_PER_ACCOUNT,
    requestsWindowS: config.RATE_LIMIT_REQUESTS_WINDOW_S,
    authFailuresPerAddress: config.RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS,
    authFailuresPerAccount: config.RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT,
    authFailuresWindowS: config.RATE_LIMIT_AUTH_FAILURES_WINDOW_S,
  });
  adapter.getInstance().addHook('onRequest', new BasicAuthentication(app.get(AccountReader), app.get(AccountRepository), app.get(ApiKeyReader), runtime.keyring, limits).onRequest);
  adapter.getInstance().addHook('preHandler', answerFetchBeforeNest(app.get(QueryBus)));
  limitConnections(app.getHttpServer(), {
    max: config.HTTP_MAX_CONNECTIONS,
    // Behind a proxy every connection comes from the proxy: bounded per client there instead.
    perAddress: config.TRUST_PROXY === false ? config.HTTP_MAX_CONNECTIONS_PER_ADDRESS : 0,
  });
  if (options.logger !== false) app.useLogger(options.log?.format === 'pretty' ? new FrameworkChatterAtDebug(app.get(Logger)) : app.get(Logger));
  if ((options.role ?? 'all') !== 'projector' && options.openApi !== false) setUpOpenApi(app);
  if ((options.role ?? 'all') !== 'projector' && (options.console ?? options.openApi) !== false) await serveConsole(app);
  await app.init();
  return app;
}

/**
 * Slow and idle sockets are closed: headers must arrive within HTTP_HEADERS_TIMEOUT_MS of the
 * connection (or of the previous answer), the whole request within HTTP_REQUEST_TIMEOUT_MS, and
 * a kept-alive connection may idle HTTP_KEEP_ALIVE_TIMEOUT_MS. Node checks the first two every
 * `connectionsCheckingInterval` (30 s by default, which would stretch them): every second here.
 * A socket with no traffic at all for longer than any of them (a client that stopped reading
 * its answer) is destroyed.
 */
function serverTimeouts(config: AppConfig) {
  return {
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: Math.max(config.HTTP_REQUEST_TIMEOUT_MS, config.HTTP_KEEP_ALIVE_TIMEOUT_MS) + 10_000,
    http: { headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
  };
}

/**
 * What Fastify's default client-error handler does, with Twilio's envelope as the body — in the
 * format the request line's path asks for, when there is one to read (as every other error).
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const rawPacket = (error as { rawPacket?: Buffer }).rawPacket;
  const representation = representationOfRequestLine(rawPacket);
  const body = errorBody(new TwilioError(status, 20002, status === 400 ? 'Malformed HTTP request' : STATUS_CODES[status]!), representation);
  // The answer to a HEAD has no body, even to one the parser refused (a client would read it as garbage).
  const head = rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${MEDIA_TYPES[representation]}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  }
  socket.destroy(error);
}

/** `GET /2010-04-01/Accounts?x HTTP/1.1` → the path's representation; JSON when no request line can be read. */
function representationOfRequestLine(rawPacket: Buffer | undefined): Representation {
  const target = rawPacket?.subarray(0, 8192).toString('latin1').split('\r\n', 1)[0].split(' ')[1];
  return target?.startsWith('/') ? representationOfPath(target.split('?')[0]) : 'json';
}
