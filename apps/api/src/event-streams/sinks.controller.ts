import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { canSee, type Caller, type CommandContext } from '@accountable/accounts';
import {
  assertSinkReachable,
  EgressPolicy,
  EventStreamsCommands,
  EventStreamsReader,
  EventStreamsRuleError,
  parseSinkConfiguration,
  type SinkRecord,
} from '@accountable/event-streams';
import { RUNTIME, type Runtime } from '@accountable/platform';
import { parsePage, parsePageSize, toSinkResource, toV1Page, TwilioErrors, type SinkResource, type V1List } from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { PublicUrl } from '../http/public-url';
import { ApiContext } from '../http/request-context';
import { TwilioErrorSchema } from '../openapi/twilio.schemas';
import { bodyOf, inUseFilter, pathOf, requiredText, sinkSidOf, sinkStatusFilter , ownerAccountOf } from './event-streams.params';

/**
 * Twilio Event Streams Sinks (events.twilio.com/v1/Sinks). A sink belongs to the account that
 * created it; a main account also reaches its subaccounts' sinks, as in `/v1/Events`, never
 * wider. Account credentials or a standard API key, as for `/v1/Events`.
 */
@ApiTags('Event Streams v1')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class SinksController {
  /** EGRESS_ALLOW's policy: where a sink may send (checked at creation; delivery checks again). */
  private readonly egress: EgressPolicy;

  constructor(
    private readonly commands: EventStreamsCommands,
    private readonly reader: EventStreamsReader,
    private readonly queries: QueryBus,
    private readonly publicUrl: PublicUrl,
    @Inject(RUNTIME) runtime: Runtime,
  ) {
    this.egress = EgressPolicy.allowing(runtime.config.EGRESS_ALLOW);
  }

  @Get('Sinks')
  @ApiOperation({ operationId: 'ListSink', summary: 'The caller’s sinks (and its subaccounts’), oldest first; InUse, Status filters' })
  @Authenticated(undefined, { apiKeys: true })
  async list(@AuthCaller() caller: Caller, @Query() query: Record<string, unknown>): Promise<V1List<'sinks', SinkResource>> {
    const inUse = inUseFilter(query.InUse);
    const status = sinkStatusFilter(query.Status);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const result = await this.reader.sinks(caller, { inUse, status }, pageSize, page);
    return toV1Page({
      key: 'sinks',
      items: result.items.map((sink) => toSinkResource(sink, this.publicUrl.base)),
      baseUrl: this.publicUrl.base,
      path: '/Sinks',
      filters: [
        ['InUse', inUse === undefined ? undefined : String(inUse)],
        ['Status', status],
      ],
      page,
      pageSize,
      hasNext: result.hasNext,
    });
  }

  @Post('Sinks')
  @ApiOperation({ operationId: 'CreateSink', summary: 'A new sink: webhook (Twilio’s) or nats (ours)' })
  @ApiResponse({ status: 400, description: 'Missing parameter (20001), bad configuration or type, a destination EGRESS_ALLOW refuses (91000), too many sinks (91003)', type: TwilioErrorSchema })
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async create(@AuthCaller() caller: Caller, @Body() body: unknown, @ApiContext() context: CommandContext): Promise<SinkResource> {
    const params = bodyOf(body);
    const description = requiredText(params, 'Description');
    const sinkType = requiredText(params, 'SinkType');
    if (params.SinkConfiguration === undefined || params.SinkConfiguration === '') throw missingConfiguration();
    const parsed = parseSinkConfiguration(sinkType, params.SinkConfiguration);
    await assertSinkReachable(parsed.configuration, this.egress);
    const sink = await this.commands.createSink({ accountSid: caller.sid, ownerAccountSid: await ownerAccountOf(this.queries, caller), description, parsed }, context);
    return toSinkResource(sink, this.publicUrl.base);
  }

  @Get('Sinks/:sid')
  @ApiOperation({ operationId: 'FetchSink', summary: 'One sink' })
  @ApiResponse({ status: 404, description: 'Unknown or not the caller’s (91001)', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  async fetch(@AuthCaller() caller: Caller, @Param('sid') sid: string): Promise<SinkResource> {
    return toSinkResource(await this.visibleSink(caller, sid), this.publicUrl.base);
  }

  @Post('Sinks/:sid')
  @ApiOperation({ operationId: 'UpdateSink', summary: 'A sink’s Description (the only field Twilio lets change)' })
  @HttpCode(200)
  @Authenticated(undefined, { apiKeys: true })
  async update(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Body() body: unknown, @ApiContext() context: CommandContext): Promise<SinkResource> {
    const sink = await this.visibleSink(caller, sid);
    const description = requiredText(bodyOf(body), 'Description');
    return toSinkResource(await this.commands.updateSink(sink, description, context), this.publicUrl.base);
  }

  @Delete('Sinks/:sid')
  @ApiOperation({ operationId: 'DeleteSink', summary: 'Delete a sink without a subscription (91007 otherwise)' })
  @HttpCode(204)
  @Authenticated(undefined, { apiKeys: true })
  async remove(@AuthCaller() caller: Caller, @Param('sid') sid: string, @ApiContext() context: CommandContext): Promise<void> {
    await this.commands.deleteSink(await this.visibleSink(caller, sid), context);
  }

  @Put(['Sinks', 'Sinks/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Patch(['Sinks', 'Sinks/:sid'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Delete('Sinks')
  @ApiExcludeEndpoint()
  @Authenticated()
  deleteList(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  /** The sink if the caller may reach it; a malformed sid is 91006, anything else unknown 91001. */
  private async visibleSink(caller: Caller, sid: string): Promise<SinkRecord> {
    const sink = await this.reader.sink(sinkSidOf(sid));
    if (!sink || !canSee(caller, sink.accountSid, sink.ownerAccountSid)) throw new EventStreamsRuleError('sink_not_found', `Sink ${sid} was not found`);
    return sink;
  }
}

function missingConfiguration() {
  return TwilioErrors.missingParameter('Missing required parameter SinkConfiguration in the post body');
}

function notAllowed(request: FastifyRequest) {
  const list = /\/Sinks$/.test(pathOf(request));
  return TwilioErrors.methodNotAllowed(request.method, list ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD', 'POST', 'DELETE']);
}
