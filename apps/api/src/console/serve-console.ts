import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { TwilioErrors } from '@accountable/twilio';

export const CONSOLE_PATH = '/console';

/**
 * Every console response's headers. The build emits no inline script or style, so the policy
 * allows only the console's own files and calls to its own origin; Trusted Types make any
 * string-to-HTML sink throw, so user text can only ever be text.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
});

/** `dist/console`, where `npm run build` puts the console (vite, apps/console/vite.config.ts). */
export function builtConsoleDirectory(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'apps'))) return path.join(dir, 'dist', 'console');
  }
  return path.resolve('dist', 'console');
}

/**
 * Serves the console from the same process: its hashed assets (cached for good) and, for every
 * other path under /console, the one HTML page (never cached), whose script routes in the
 * browser. Registered on Fastify directly, in its own encapsulated scope: the console's
 * headers reach only its own responses, and no Nest guard stands in front of static files (the
 * page holds no data; every call it makes authenticates like any client's).
 */
export async function serveConsole(app: NestFastifyApplication, dir = builtConsoleDirectory()): Promise<void> {
  const indexFile = path.join(dir, 'index.html');
  const page = existsSync(indexFile) ? readFileSync(indexFile) : null;
  // Loaded only here: the in-process tests never serve the console (see createApiApp's `console`).
  const { default: fastifyStatic } = await import('@fastify/static');
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  await fastify.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.headers(CONSOLE_SECURITY_HEADERS);
      return payload;
    });
    if (page) {
      await scope.register(fastifyStatic, {
        root: path.join(dir, 'assets'),
        prefix: `${CONSOLE_PATH}/assets/`,
        index: false,
        dotfiles: 'ignore',
        cacheControl: false,
        setHeaders: (reply: FastifyReply) => void reply.header('cache-control', 'public, max-age=31536000, immutable'),
      });
    }
    const sendPage = async (_request: unknown, reply: FastifyReply) => {
      // Not built (only `tsc` ran): say so plainly rather than serve a blank page.
      if (!page) {
        const error = TwilioErrors.notFound(`${CONSOLE_PATH} (the console is not built: run npm run build)`);
        return reply.code(error.status).send(error.toBody());
      }
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page);
    };
    scope.get(CONSOLE_PATH, sendPage);
    scope.get(`${CONSOLE_PATH}/*`, async (request, reply) => {
      // A missing asset is a 404, not the page (a script answered with HTML would only confuse).
      if (request.url.startsWith(`${CONSOLE_PATH}/assets/`)) return reply.callNotFound();
      return sendPage(request, reply);
    });
  });
}
