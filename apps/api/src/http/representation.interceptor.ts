import { applyDecorators, Injectable, SetMetadata, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { MEDIA_TYPES, representationOfPath } from '@accountable/twilio';

/** How a handler's JSON answer is written as XML and as CSV (libs/twilio/src/representations). */
export interface OtherRepresentations<T> {
  xml: (value: T) => string;
  csv: (value: T) => string;
}

const REPRESENTATIONS = 'twilio:representations';

/**
 * The handler answers in the format its URL's suffix asks for (representationOfPath): it returns
 * the JSON resource, and a `.xml`, suffix-less or `.csv` request gets it converted here. Errors
 * take the same path in the exception filter.
 */
export const Represented = <T>(representations: OtherRepresentations<T>) =>
  applyDecorators(SetMetadata(REPRESENTATIONS, representations), UseInterceptors(RepresentationInterceptor));

@Injectable()
export class RepresentationInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const representations = this.reflector.get<OtherRepresentations<unknown> | undefined>(REPRESENTATIONS, context.getHandler());
    const http = context.switchToHttp();
    const representation = representationOfPath(http.getRequest<FastifyRequest>().url.split('?')[0]);
    if (!representations || representation === 'json') return next.handle();
    const reply = http.getResponse<FastifyReply>();
    return next.handle().pipe(
      map((value) => {
        void reply.header('Content-Type', MEDIA_TYPES[representation]);
        return representations[representation](value);
      }),
    );
  }
}
