import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiConsumes, ApiCreatedResponse, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  CreateApiKeyCommand,
  DeleteApiKeyCommand,
  GetAccountQuery,
  GetApiKeyQuery,
  ListApiKeysQuery,
  UpdateApiKeyCommand,
  type Caller,
  type CommandContext,
} from '@accountable/accounts';
import {
  apiKeyCsv,
  apiKeyPageCsv,
  apiKeyPageXml,
  apiKeyXml,
  isAccountSid,
  isApiKeySid,
  withoutSuffix,
  parsePage,
  parsePageSize,
  toApiKeyPage,
  toApiKeyResource,
  toNewApiKeyResource,
  TwilioErrors,
  type ApiKeyCollection,
  type ApiKeyPage,
  type ApiKeyResource,
  type NewApiKeyResource,
} from '@accountable/twilio';
import { AuthCaller, Authenticated, NamedAccount } from '../http/basic-auth';
import { Represented } from '../http/representation.interceptor';
import { ApiContext } from '../http/request-context';
import { ApiKeyPageSchema, ApiKeySchema, NewApiKeySchema, TwilioErrorSchema } from '../openapi/twilio.schemas';
import { ApiKeyDto, ListApiKeysQueryDto } from './api-key.dto';

/**
 * `Keys` and `SigningKeys`: the same resource (CREDENTIALS.md §1), served by the same handlers,
 * each path in the three representations of the 2010 API, chosen by the URL's suffix (no suffix or
 * `.xml`: XML, `.json`, `.csv`), as Accounts. `{Sid}` carries its suffix.
 */
const LIST = ['Keys', 'SigningKeys'].flatMap((name) => ['', '.json', '.xml', '.csv'].map((suffix) => `Accounts/:sid/${name}${suffix}`));
const INSTANCE = ['Accounts/:sid/Keys/:keySid', 'Accounts/:sid/SigningKeys/:keySid'];
const KEY = Represented<ApiKeyResource>({ xml: apiKeyXml, csv: apiKeyCsv });
const PAGE = Represented<ApiKeyPage>({ xml: apiKeyPageXml, csv: apiKeyPageCsv });
const namesAccount = ({ sid }: Record<string, string>) => (isAccountSid(sid) ? sid : null);

/**
 * Twilio REST API v2010 Keys: standard API keys of an account the caller may see (itself or,
 * for a main account, a subaccount). Account credentials only: an API key is refused (20003).
 */
@ApiTags('Keys v2010')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials, an inactive account, or an API key (20003)', type: TwilioErrorSchema })
@ApiResponse({ status: 404, description: 'The account or the key is unknown or not the caller’s (20404)', type: TwilioErrorSchema })
@Controller('2010-04-01')
export class ApiKeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get(LIST)
  @ApiOperation({ operationId: 'ListKey', summary: 'The account’s API keys, oldest first (no secrets)' })
  @ApiParam({ name: 'sid', description: 'The account sid' })
  @ApiOkResponse({ type: ApiKeyPageSchema })
  @PAGE
  @Authenticated(namesAccount)
  async list(
    @AuthCaller() caller: Caller,
    @Param('sid') accountSid: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Query() query: ListApiKeysQueryDto,
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyPage> {
    await this.visibleAccount(caller, accountSid, row, request);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const result = await this.queries.execute(new ListApiKeysQuery(accountSid, pageSize, page));
    return toApiKeyPage({ collection: collectionOf(request), accountSid, items: result.items, pageSize, page, hasNext: result.hasNext });
  }

  @Post(LIST)
  @ApiOperation({ operationId: 'CreateNewKey', summary: 'A new standard API key; its secret is in this answer only' })
  @ApiParam({ name: 'sid', description: 'The account sid' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiCreatedResponse({ type: NewApiKeySchema })
  @KEY
  @ApiResponse({ status: 400, description: 'FriendlyName over 64 characters (70001), too many keys (70151), a closed account (21479)', type: TwilioErrorSchema })
  @HttpCode(201)
  @Authenticated(namesAccount)
  async create(
    @AuthCaller() caller: Caller,
    @Param('sid') accountSid: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Body() body: ApiKeyDto,
    @ApiContext() context: CommandContext,
    @Req() request: FastifyRequest,
  ): Promise<NewApiKeyResource> {
    await this.visibleAccount(caller, accountSid, row, request);
    const key = await this.commands.execute(new CreateApiKeyCommand(accountSid, body.FriendlyName, context));
    return toNewApiKeyResource(key, key.secret);
  }

  @Get(INSTANCE)
  @ApiOperation({ operationId: 'FetchKey', summary: 'One API key (no secret)' })
  @ApiParam({ name: 'keySid', description: '{Sid}.json — SK + 32 hex, then .json (70002 otherwise)' })
  @ApiOkResponse({ type: ApiKeySchema })
  @KEY
  @ApiResponse({ status: 400, description: 'Not an SK sid (70002)', type: TwilioErrorSchema })
  @Authenticated(namesAccount)
  async fetch(
    @AuthCaller() caller: Caller,
    @Param('sid') accountSid: string,
    @Param('keySid') keySidJson: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyResource> {
    await this.visibleAccount(caller, accountSid, row, request);
    const key = await this.queries.execute(new GetApiKeyQuery(accountSid, keySidOf(keySidJson)));
    if (!key) throw TwilioErrors.notFound(pathOf(request));
    return toApiKeyResource(key);
  }

  @Post(INSTANCE)
  @ApiOperation({ operationId: 'UpdateKey', summary: 'Rename an API key' })
  @ApiParam({ name: 'keySid', description: '{Sid}.json — SK + 32 hex, then .json (70002 otherwise)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiOkResponse({ type: ApiKeySchema })
  @KEY
  @ApiResponse({ status: 400, description: 'Not an SK sid (70002), FriendlyName over 64 characters (70001)', type: TwilioErrorSchema })
  @HttpCode(200)
  @Authenticated(namesAccount)
  async update(
    @AuthCaller() caller: Caller,
    @Param('sid') accountSid: string,
    @Param('keySid') keySidJson: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Body() body: ApiKeyDto,
    @ApiContext() context: CommandContext,
    @Req() request: FastifyRequest,
  ): Promise<ApiKeyResource> {
    await this.visibleAccount(caller, accountSid, row, request);
    const key = await this.commands.execute(new UpdateApiKeyCommand(accountSid, keySidOf(keySidJson), body.FriendlyName, context));
    return toApiKeyResource(key);
  }

  @Delete(INSTANCE)
  @ApiOperation({ operationId: 'DeleteKey', summary: 'Delete an API key: refused from the next request on, in every process' })
  @ApiParam({ name: 'keySid', description: '{Sid}.json — SK + 32 hex, then .json (70002 otherwise)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  @ApiResponse({ status: 400, description: 'Not an SK sid (70002)', type: TwilioErrorSchema })
  @HttpCode(204)
  @Authenticated(namesAccount)
  async remove(
    @AuthCaller() caller: Caller,
    @Param('sid') accountSid: string,
    @Param('keySid') keySidJson: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @ApiContext() context: CommandContext,
    @Req() request: FastifyRequest,
  ): Promise<void> {
    await this.visibleAccount(caller, accountSid, row, request);
    await this.commands.execute(new DeleteApiKeyCommand(accountSid, keySidOf(keySidJson), context));
  }

  // Credentials first, as for Accounts: without good ones the answer is 401 whatever the method.
  @Put([...LIST, ...INSTANCE])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Patch([...LIST, ...INSTANCE])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Delete(LIST)
  @ApiExcludeEndpoint()
  @Authenticated()
  deleteList(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  /** The path's account, if the caller may see it; anything else (malformed included) is 404, as for Accounts. */
  private async visibleAccount(caller: Caller, accountSid: string, row: GetAccountQuery['row'], request: FastifyRequest): Promise<void> {
    const account = isAccountSid(accountSid) ? await this.queries.execute(new GetAccountQuery(caller, accountSid, true, row)) : null;
    if (!account) throw TwilioErrors.notFound(pathOf(request));
  }
}

/** `{Sid}` with an SK sid (and a suffix or none), else 400 70002 (LIVE Test 18). */
function keySidOf(segment: string): string {
  const sid = withoutSuffix(segment).name;
  if (!isApiKeySid(sid)) throw TwilioErrors.invalidApiKeySid();
  return sid;
}

function collectionOf(request: FastifyRequest): ApiKeyCollection {
  return /\/SigningKeys(\.\w+)?$/.test(pathOf(request)) ? 'SigningKeys' : 'Keys';
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

/** 405 with what the path allows: the list GET and POST, a key also DELETE. */
function notAllowed(request: FastifyRequest) {
  const list = /\/(Signing)?Keys(\.\w+)?$/.test(pathOf(request));
  return TwilioErrors.methodNotAllowed(request.method, list ? ['GET', 'HEAD', 'POST'] : ['GET', 'HEAD', 'POST', 'DELETE']);
}
