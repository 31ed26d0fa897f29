import { Body, Controller, Delete, Get, HttpCode, Inject, Logger, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { canSee, type Caller, type CommandContext } from '@accountable/accounts';
import {
  assertSinkReachable,
  EgressPolicy,
  EventStreamsCommands,
  EventStreamsReader,
  EventStreamsRuleError,
  parseSinkConfiguration,
  SinkSenders,
  type SinkRecord,
  type SinkTestAnswer,
  type SinkValidateAnswer,
} from '@accountable/event-streams';
import { RUNTIME, type Runtime } from '@accountable/platform';
import { parsePage, parsePageSize, toSinkResource, toV1Page, TwilioErrors, type SinkResource, type V1List } from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf } from '../http/idempotency-key';
import { PublicUrl } from '../http/public-url';
import { ApiContext } from '../http/request-context';
import { TwilioErrorSchema } from '../openapi/twilio.schemas';
import { bodyOf, inUseFilter, pathOf, requiredText, sinkSidOf, sinkStatusFilter , ownerAccountOf } from './event-streams.params';

/** Twilio's handshake routes under a sink (its `links.sink_test`, `links.sink_validate`): POST only. */
const HANDSHAKE = ['Sinks/:sid/Test', 'Sinks/:sid/Validate'];

/**
 * Twilio Event Streams Sinks (events.twilio.com/v1/Sinks). A sink belongs to the account that
 * created it; a main account also reaches its subaccounts' sinks, as in `/v1/Events`, never
 * wider. Account credentials or a standard API key, as for `/v1/Events`.
 *
 * Test/Validate (EVENT-STREAMS.md §3): Test stores a new test id (the sink is `validating`,
 * delivery holds at its checkpoint) and then sends the test event itself, in the request, once,
 * through the same signed transport and egress guard as deliveries; Validate with that id makes
 * the sink `active` again. Every POST honours Idempotency-Key.
 */
@ApiTags('Event Streams v1')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class SinksController {
  /** EGRESS_ALLOW's policy: where a sink may send (checked at creation; delivery checks again). */
  private readonly egress: EgressPolicy;
  private readonly logger = new Logger('EventStreams');

  constructor(
    private readonly commands: EventStreamsCommands,
    private readonly reader: EventStreamsReader,
    private readonly queries: QueryBus,
    private readonly publicUrl: PublicUrl,
    private readonly senders: SinkSenders,
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
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async create(@AuthCaller() caller: Caller, @Body() body: unknown, @Req() request: FastifyRequest, @ApiContext() context: CommandContext): Promise<SinkResource> {
    const params = bodyOf(body);
    const description = requiredText(params, 'Description');
    const sinkType = requiredText(params, 'SinkType');
    if (params.SinkConfiguration === undefined || params.SinkConfiguration === '') throw missingConfiguration();
    const parsed = parseSinkConfiguration(sinkType, params.SinkConfiguration);
    // The parsed configuration, not its text (other spacing is the same request), with the
    // destination password masked: a stored hash must not let anyone test guesses at it.
    const idempotency = idempotencyKeyOf(request, caller.sid, '/v1/Sinks', { Description: description, SinkType: sinkType, SinkConfiguration: JSON.stringify(parsed.configuration) });
    await assertSinkReachable(parsed.configuration, this.egress);
    const sink = await this.commands.createSink({ accountSid: caller.sid, ownerAccountSid: await ownerAccountOf(this.queries, caller), description, parsed }, context, idempotency);
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
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(200)
  @Authenticated(undefined, { apiKeys: true })
  async update(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @ApiContext() context: CommandContext,
  ): Promise<SinkResource> {
    const sink = await this.visibleSink(caller, sid);
    const description = requiredText(bodyOf(body), 'Description');
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Sinks/${sink.sid}`, { Description: description });
    return toSinkResource(await this.commands.updateSink(sink, description, context, idempotency), this.publicUrl.base);
  }

  @Post('Sinks/:sid/Test')
  @ApiOperation({
    operationId: 'CreateSinkTest',
    summary: 'Send the sink a test event carrying a new test id (status validating until Validate; a second Test supersedes the first id)',
  })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiResponse({ status: 201, description: '{"result": "submitted"}, whatever the sink answered: the test event was sent once' })
  @ApiResponse({ status: 404, description: 'Unknown or not the caller’s (91001)', type: TwilioErrorSchema })
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async test(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Req() request: FastifyRequest, @ApiContext() context: CommandContext): Promise<SinkTestAnswer> {
    const sink = await this.visibleSink(caller, sid);
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Sinks/${sink.sid}/Test`, {});
    const started = await this.commands.startSinkTest(sink, context, idempotency);
    if (started.testId !== null) await this.sendTest(sink, started.testId);
    return started.answer;
  }

  @Post('Sinks/:sid/Validate')
  @ApiOperation({ operationId: 'CreateSinkValidate', summary: 'Confirm the test id the sink received: the sink becomes active' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiResponse({ status: 201, description: '{"result": "valid"}' })
  @ApiResponse({ status: 400, description: 'Missing TestId (20001), no Test since the last Validate (91004), another id (91005; status unchanged)', type: TwilioErrorSchema })
  @ApiResponse({ status: 404, description: 'Unknown or not the caller’s (91001)', type: TwilioErrorSchema })
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async validate(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @ApiContext() context: CommandContext,
  ): Promise<SinkValidateAnswer> {
    const sink = await this.visibleSink(caller, sid);
    const testId = requiredText(bodyOf(body), 'TestId');
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Sinks/${sink.sid}/Validate`, { TestId: testId });
    return this.commands.validateSink(sink, testId, context, idempotency);
  }

  @Delete('Sinks/:sid')
  @ApiOperation({ operationId: 'DeleteSink', summary: 'Delete a sink without a subscription (91007 otherwise)' })
  @HttpCode(204)
  @Authenticated(undefined, { apiKeys: true })
  async remove(@AuthCaller() caller: Caller, @Param('sid') sid: string, @ApiContext() context: CommandContext): Promise<void> {
    await this.commands.deleteSink(await this.visibleSink(caller, sid), context);
  }

  @Put(['Sinks', 'Sinks/:sid', ...HANDSHAKE])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Get(HANDSHAKE)
  @ApiExcludeEndpoint()
  @Authenticated()
  get(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Patch(['Sinks', 'Sinks/:sid', ...HANDSHAKE])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Delete(['Sinks', ...HANDSHAKE])
  @ApiExcludeEndpoint()
  @Authenticated()
  deleteList(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  /**
   * The test event, sent once now that its id is stored: Twilio answers "submitted" whatever
   * the sink does, and a sink that missed it is simply tested again. A failure is logged (sid,
   * code, reason: never the destination, which may hold a password).
   */
  private async sendTest(sink: SinkRecord, testId: string): Promise<void> {
    const outcome = await this.senders.sendTest(sink.sid, testId);
    if (outcome && outcome.kind !== 'delivered') this.logger.warn(`the test event to ${sink.sid} was not delivered (${outcome.code}): ${outcome.reason}`);
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
  const path = pathOf(request);
  if (/\/(Test|Validate)$/.test(path)) return TwilioErrors.methodNotAllowed(request.method, ['POST']);
  return TwilioErrors.methodNotAllowed(request.method, /\/Sinks$/.test(path) ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD', 'POST', 'DELETE']);
}
