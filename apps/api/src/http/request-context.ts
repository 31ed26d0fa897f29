import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '@accountable/accounts';
import { clientAddressOf } from './client-address';

/** The audit facts of an API request: becomes the metadata of the events it causes. */
export const ApiContext = createParamDecorator((_: unknown, context: ExecutionContext): CommandContext => {
  const request = context.switchToHttp().getRequest<FastifyRequest & { caller?: { sid: string } }>();
  const userAgent = request.headers['user-agent'];
  return {
    actorType: 'account',
    actorSid: request.caller?.sid ?? null,
    source: 'api',
    sourceIp: clientAddressOf(request),
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, 512) : null,
    requestId: String(request.id),
  };
});
