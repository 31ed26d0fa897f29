import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Runtime } from '@accountable/platform';
import { AppModule } from './app.module';

/** Builds the HTTP application on an open runtime; used by main.ts and the e2e tests. */
export async function createApiApp(runtime: Runtime, options: { logger?: false } = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: 1024 * 1024,
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRuntime(runtime), adapter, {
    logger: options.logger ?? ['error', 'warn', 'log'],
    abortOnError: false,
  });
  await app.init();
  return app;
}
