import { Controller, Delete, Get, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Caller } from '@accountable/accounts';
import { GetAuditEventQuery, ListAuditEventsQuery } from '@accountable/accounts';
import {
  decodeEventPageToken,
  encodeEventPageToken,
  eventsPageUrls,
  isEventSid,
  parseEventQuery,
  parsePage,
  parsePageSize,
  parsePageToken,
  toEventsPage,
  toMonitorEvent,
  TwilioErrors,
  type EventsPage,
  type MonitorEvent,
} from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { PublicUrl } from '../http/public-url';
import { EventsPageSchema, EventsQuerySchema, MonitorEventSchema, TwilioErrorSchema } from '../openapi/twilio.schemas';

/** A read-only resource's methods, for the `Allow` header of a 405 (HEAD comes with every GET route). */
const READ_ONLY = ['GET', 'HEAD'];

/**
 * Twilio Monitor v1 Events: the audit history, read from the `audit` projection (so a change
 * shows up once the projection has caught up, not in the response that made it).
 */
@ApiTags('Monitor v1 Events')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class EventsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly publicUrl: PublicUrl,
  ) {}

  @Get('Events')
  @ApiOperation({ operationId: 'ListEvent', summary: 'Audit events of the caller and its subaccounts, newest first' })
  @ApiQuery({ type: EventsQuerySchema })
  @ApiOkResponse({ type: EventsPageSchema })
  @ApiResponse({ status: 400, description: 'More than one non-date filter, a bad date or paging value', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  async list(@AuthCaller() caller: Caller, @Query() query: Record<string, unknown>): Promise<EventsPage> {
    const filters = parseEventQuery(query);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const pageToken = parsePageToken(query.PageToken);
    const cursor = pageToken === undefined ? null : decodeEventPageToken(pageToken);
    const result = await this.queries.execute(new ListAuditEventsQuery(caller, filters, pageSize, cursor, page));
    const baseUrl = this.publicUrl.base;
    return toEventsPage({
      events: result.items.map((view) => toMonitorEvent(view, baseUrl)),
      page,
      pageSize,
      ...eventsPageUrls({
        baseUrl,
        filters: filters.filters,
        pageSize,
        page,
        pageToken,
        nextToken: result.nextKey ? encodeEventPageToken('after', result.nextKey) : null,
        previousToken: result.previousKey ? encodeEventPageToken('before', result.previousKey) : null,
      }),
    });
  }

  @Get('Events/:sid')
  @ApiOperation({ operationId: 'FetchEvent', summary: 'One audit event' })
  @ApiParam({ name: 'sid', description: 'AE + 32 hex' })
  @ApiOkResponse({ type: MonitorEventSchema })
  @ApiResponse({ status: 404, description: 'Unknown, malformed or not visible to the caller (20404)', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  async fetch(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Req() request: FastifyRequest): Promise<MonitorEvent> {
    // A malformed sid, an unknown one and another tenant's all read the same: not found.
    const view = isEventSid(sid) ? await this.queries.execute(new GetAuditEventQuery(caller, sid)) : null;
    if (!view) throw TwilioErrors.notFound(request.url.split('?')[0]);
    return toMonitorEvent(view, this.publicUrl.base);
  }

  // The resource is read-only. One handler per verb (see AccountsController).
  @Post(['Events', 'Events/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  post(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Put(['Events', 'Events/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Delete(['Events', 'Events/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Patch(['Events', 'Events/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }
}
