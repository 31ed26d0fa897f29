import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { canSee, type Caller, type CommandContext } from '@accountable/accounts';
import { EVENT_TYPE_CATALOG, EventStreamsCommands, EventStreamsReader, EventStreamsRuleError, type EventTypeCatalog, type SubscriptionRecord } from '@accountable/event-streams';
import {
  parsePage,
  parsePageSize,
  singleParam,
  toSubscribedEventResource,
  toSubscriptionResource,
  toV1Page,
  TwilioErrors,
  type SubscribedEventResource,
  type SubscriptionResource,
  type V1List,
} from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf } from '../http/idempotency-key';
import { PublicUrl } from '../http/public-url';
import { ApiContext } from '../http/request-context';
import { TwilioErrorSchema } from '../openapi/twilio.schemas';
import { bodyOf, isSubscriptionSid, optionalSchemaVersion, optionalText, pathOf, requiredText, sinkSidOf, subscriptionTypes , ownerAccountOf } from './event-streams.params';

/**
 * Twilio Event Streams Subscriptions and their SubscribedEvents. A subscription belongs to the
 * account that created it and names a sink of that same account; visibility as for sinks.
 */
@ApiTags('Event Streams v1')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class SubscriptionsController {
  constructor(
    private readonly commands: EventStreamsCommands,
    private readonly reader: EventStreamsReader,
    private readonly queries: QueryBus,
    private readonly publicUrl: PublicUrl,
    @Inject(EVENT_TYPE_CATALOG) private readonly catalog: EventTypeCatalog,
  ) {}

  @Get('Subscriptions')
  @ApiOperation({ operationId: 'ListSubscription', summary: 'The caller’s subscriptions (and its subaccounts’), oldest first; SinkSid filter' })
  @Authenticated(undefined, { apiKeys: true })
  async list(@AuthCaller() caller: Caller, @Query() query: Record<string, unknown>): Promise<V1List<'subscriptions', SubscriptionResource>> {
    const sinkSidText = singleParam(query.SinkSid);
    const sinkSid = sinkSidText === undefined || sinkSidText === '' ? undefined : sinkSidOf(sinkSidText);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const result = await this.reader.subscriptions(caller, { sinkSid }, pageSize, page);
    return toV1Page({
      key: 'subscriptions',
      items: result.items.map((s) => toSubscriptionResource(s, this.publicUrl.base)),
      baseUrl: this.publicUrl.base,
      path: '/Subscriptions',
      filters: [['SinkSid', sinkSid]],
      page,
      pageSize,
      hasNext: result.hasNext,
    });
  }

  @Post('Subscriptions')
  @ApiOperation({ operationId: 'CreateSubscription', summary: 'A subscription of an active sink of the caller to event types' })
  @ApiResponse({ status: 400, description: 'Missing parameter (20001), sink not active (91100) or in use (91007), bad types (91101, 91103, 91104)', type: TwilioErrorSchema })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async create(@AuthCaller() caller: Caller, @Body() body: unknown, @Req() request: FastifyRequest, @ApiContext() context: CommandContext): Promise<SubscriptionResource> {
    const params = bodyOf(body);
    const description = requiredText(params, 'Description');
    const sinkSid = sinkSidOf(requiredText(params, 'SinkSid'));
    const types = subscriptionTypes(params);
    const idempotency = idempotencyKeyOf(request, caller.sid, '/v1/Subscriptions', { Description: description, SinkSid: sinkSid, Types: JSON.stringify(types) });
    const subscription = await this.commands.createSubscription(
      { accountSid: caller.sid, ownerAccountSid: await ownerAccountOf(this.queries, caller), sinkSid, description, types },
      this.catalog,
      context,
      idempotency,
    );
    return toSubscriptionResource(subscription, this.publicUrl.base);
  }

  @Get('Subscriptions/:sid')
  @ApiOperation({ operationId: 'FetchSubscription', summary: 'One subscription' })
  @ApiResponse({ status: 404, description: 'Unknown or not the caller’s (91102)', type: TwilioErrorSchema })
  @Authenticated(undefined, { apiKeys: true })
  async fetch(@AuthCaller() caller: Caller, @Param('sid') sid: string): Promise<SubscriptionResource> {
    return toSubscriptionResource(await this.visibleSubscription(caller, sid), this.publicUrl.base);
  }

  @Post('Subscriptions/:sid')
  @ApiOperation({ operationId: 'UpdateSubscription', summary: 'A subscription’s Description (SinkSid can no longer change: Twilio removed it)' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(200)
  @Authenticated(undefined, { apiKeys: true })
  async update(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @ApiContext() context: CommandContext,
  ): Promise<SubscriptionResource> {
    const subscription = await this.visibleSubscription(caller, sid);
    const description = optionalText(bodyOf(body), 'Description');
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Subscriptions/${subscription.sid}`, { Description: description });
    // Nothing to change: the answer is a read, the same for any retry.
    if (description === undefined) return toSubscriptionResource(subscription, this.publicUrl.base);
    return toSubscriptionResource(await this.commands.updateSubscription(subscription, description, context, idempotency), this.publicUrl.base);
  }

  @Delete('Subscriptions/:sid')
  @ApiOperation({ operationId: 'DeleteSubscription', summary: 'Delete a subscription (its sink stays as it is)' })
  @HttpCode(204)
  @Authenticated(undefined, { apiKeys: true })
  async remove(@AuthCaller() caller: Caller, @Param('sid') sid: string, @ApiContext() context: CommandContext): Promise<void> {
    await this.commands.deleteSubscription(await this.visibleSubscription(caller, sid), context);
  }

  @Get('Subscriptions/:sid/SubscribedEvents')
  @ApiOperation({ operationId: 'ListSubscribedEvent', summary: 'The event types of a subscription, by name' })
  @Authenticated(undefined, { apiKeys: true })
  async listTypes(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Query() query: Record<string, unknown>): Promise<V1List<'types', SubscribedEventResource>> {
    const subscription = await this.visibleSubscription(caller, sid);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const result = await this.reader.subscribedEvents(subscription.sid, pageSize, page);
    return toV1Page({
      key: 'types',
      items: result.items.map((t) => toSubscribedEventResource(t, this.publicUrl.base)),
      baseUrl: this.publicUrl.base,
      path: `/Subscriptions/${subscription.sid}/SubscribedEvents`,
      filters: [],
      page,
      pageSize,
      hasNext: result.hasNext,
    });
  }

  @Post('Subscriptions/:sid/SubscribedEvents')
  @ApiOperation({ operationId: 'CreateSubscribedEvent', summary: 'Add an event type (SchemaVersion: latest if absent)' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(201)
  @Authenticated(undefined, { apiKeys: true })
  async addType(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @ApiContext() context: CommandContext,
  ): Promise<SubscribedEventResource> {
    const subscription = await this.visibleSubscription(caller, sid);
    const params = bodyOf(body);
    const type = requiredText(params, 'Type');
    const schemaVersion = optionalSchemaVersion(params);
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Subscriptions/${subscription.sid}/SubscribedEvents`, { Type: type, SchemaVersion: schemaVersion?.toString() });
    const added = await this.commands.addSubscribedEvent(subscription, { type, schemaVersion }, this.catalog, context, idempotency);
    return toSubscribedEventResource(added, this.publicUrl.base);
  }

  @Get('Subscriptions/:sid/SubscribedEvents/:type')
  @ApiOperation({ operationId: 'FetchSubscribedEvent', summary: 'One subscribed event type' })
  @Authenticated(undefined, { apiKeys: true })
  async fetchType(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Param('type') type: string, @Req() request: FastifyRequest): Promise<SubscribedEventResource> {
    const subscription = await this.visibleSubscription(caller, sid);
    const found = await this.reader.subscribedEvent(subscription.sid, type);
    if (!found) throw TwilioErrors.notFound(pathOf(request));
    return toSubscribedEventResource(found, this.publicUrl.base);
  }

  @Post('Subscriptions/:sid/SubscribedEvents/:type')
  @ApiOperation({ operationId: 'UpdateSubscribedEvent', summary: 'Change the schema version of a subscribed type (latest if absent)' })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @HttpCode(200)
  @Authenticated(undefined, { apiKeys: true })
  async updateType(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Param('type') type: string,
    @Body() body: unknown,
    @Req() request: FastifyRequest,
    @ApiContext() context: CommandContext,
  ): Promise<SubscribedEventResource> {
    const subscription = await this.visibleSubscription(caller, sid);
    const schemaVersion = optionalSchemaVersion(bodyOf(body));
    const idempotency = idempotencyKeyOf(request, caller.sid, `/v1/Subscriptions/${subscription.sid}/SubscribedEvents/${type}`, { SchemaVersion: schemaVersion?.toString() });
    const changed = await this.commands.updateSubscribedEvent(subscription, { type, schemaVersion }, this.catalog, context, idempotency);
    return toSubscribedEventResource(changed, this.publicUrl.base);
  }

  @Delete('Subscriptions/:sid/SubscribedEvents/:type')
  @ApiOperation({ operationId: 'DeleteSubscribedEvent', summary: 'Remove an event type (a subscription keeps at least one: 91103)' })
  @HttpCode(204)
  @Authenticated(undefined, { apiKeys: true })
  async removeType(@AuthCaller() caller: Caller, @Param('sid') sid: string, @Param('type') type: string, @ApiContext() context: CommandContext): Promise<void> {
    await this.commands.removeSubscribedEvent(await this.visibleSubscription(caller, sid), type, context);
  }

  @Put(['Subscriptions', 'Subscriptions/:sid', 'Subscriptions/:sid/SubscribedEvents', 'Subscriptions/:sid/SubscribedEvents/:type'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Patch(['Subscriptions', 'Subscriptions/:sid', 'Subscriptions/:sid/SubscribedEvents', 'Subscriptions/:sid/SubscribedEvents/:type'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Delete(['Subscriptions', 'Subscriptions/:sid/SubscribedEvents'])
  @ApiExcludeEndpoint()
  @Authenticated()
  deleteList(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  /** A malformed sid reads as an unknown one (91102): either way, no such subscription of the caller. */
  private async visibleSubscription(caller: Caller, sid: string): Promise<SubscriptionRecord> {
    const subscription = isSubscriptionSid(sid) ? await this.reader.subscription(sid) : null;
    if (!subscription || !canSee(caller, subscription.accountSid, subscription.ownerAccountSid)) {
      throw new EventStreamsRuleError('subscription_not_found', `Subscription ${sid.slice(0, 64)} was not found`);
    }
    return subscription;
  }
}

function notAllowed(request: FastifyRequest) {
  const path = pathOf(request);
  const allow = /\/Subscriptions$/.test(path) || /\/SubscribedEvents$/.test(path) ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD', 'POST', 'DELETE'];
  return TwilioErrors.methodNotAllowed(request.method, allow);
}
