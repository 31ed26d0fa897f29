import { Body, Controller, Delete, Get, HttpCode, Options, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBasicAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiExcludeEndpoint,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RouteSchema } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import {
  CreateSubaccountCommand,
  GetAccountQuery,
  ListAccountsQuery,
  UpdateAccountCommand,
  type AccountsReadAhead,
  type Caller,
  type CommandContext,
} from '@accountable/accounts';
import {
  accountCsv,
  accountPageCsv,
  accountPageXml,
  accountUri,
  accountXml,
  ACCOUNT_RESOURCE_JSON_SCHEMA,
  API_VERSION_PATH,
  decodePageToken,
  encodePageToken,
  parseAccountStatus,
  parsePage,
  parsePageSize,
  parsePageToken,
  singleParam,
  toAccountPage,
  toAccountResource,
  TwilioErrors,
  type AccountPage,
  type AccountResource,
} from '@accountable/twilio';
import { AuthCaller, Authenticated, NamedAccount, ReadAhead } from '../http/basic-auth';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf } from '../http/idempotency-key';
import { Represented } from '../http/representation.interceptor';
import { ApiContext } from '../http/request-context';
import { AccountPageSchema, AccountSchema, TwilioErrorSchema } from '../openapi/twilio.schemas';
import { accountSidOf, fetchAccount } from './account-fetch';
import { CreateAccountDto, ListAccountsQueryDto, UpdateAccountDto } from './account.dto';

/**
 * Each path in its three representations (Twilio's 2010 API chooses by the URL's suffix only):
 * none or `.xml` → XML, `.json` → JSON, `.csv` → CSV. `{Sid}` carries its suffix (Accounts/:sid).
 */
const LIST_PATHS = ['Accounts', 'Accounts.json', 'Accounts.xml', 'Accounts.csv'];
const PATHS = [...LIST_PATHS, 'Accounts/:sid'];
const ACCOUNT = Represented<AccountResource>({ xml: accountXml, csv: accountCsv });
/** JSON answers written by Fastify's serializer for the resource's schema (faster than JSON.stringify, the same bytes). */
const ACCOUNT_ANSWER = (status: 200 | 201) => RouteSchema({ response: { [status]: ACCOUNT_RESOURCE_JSON_SCHEMA } });
/** What both paths allow, for the `Allow` header of a 405 (HEAD comes with every GET route). */
const ALLOWED = ['GET', 'HEAD', 'POST'];

/** Twilio REST API v2010 Accounts: thin, everything decided by the command and query handlers. */
@ApiTags('Accounts v2010')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials, or an inactive account (20003)', type: TwilioErrorSchema })
@Controller('2010-04-01')
export class AccountsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get(LIST_PATHS)
  @Represented<AccountPage>({ xml: accountPageXml, csv: accountPageCsv })
  @ApiOperation({ operationId: 'ListAccount', summary: 'The caller and, for a main account, its subaccounts (date_created order)' })
  @ApiOkResponse({ type: AccountPageSchema })
  @ApiResponse({ status: 400, description: 'Bad Status (21475), PageSize over 1000 (20007), bad PageToken (21481)', type: TwilioErrorSchema })
  @Authenticated()
  async list(@AuthCaller() caller: Caller, @Query() query: ListAccountsQueryDto): Promise<AccountPage> {
    const friendlyName = singleParam(query.FriendlyName);
    const status = parseAccountStatus(query.Status);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const pageToken = parsePageToken(query.PageToken);
    const cursor = pageToken === undefined ? null : decodePageToken(pageToken);
    const result = await this.queries.execute(new ListAccountsQuery(caller, { friendlyName, status }, pageSize, cursor, page));
    return toAccountPage({
      items: result.items,
      pageSize,
      page,
      filters: { FriendlyName: friendlyName, Status: status },
      pageToken,
      nextToken: result.nextKey ? encodePageToken('after', result.nextKey) : null,
      previousToken: result.previousKey ? encodePageToken('before', result.previousKey) : null,
    });
  }

  @Post(LIST_PATHS)
  @ACCOUNT
  @ACCOUNT_ANSWER(201)
  @ApiOperation({ operationId: 'CreateAccount', summary: 'Create a subaccount of the calling main account' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiCreatedResponse({ type: AccountSchema })
  @ApiResponse({ status: 400, description: 'Bad FriendlyName (20002), caller is a subaccount (21101), subaccount limit (21480)', type: TwilioErrorSchema })
  @HttpCode(201)
  @Authenticated(undefined, { command: true })
  async create(
    @AuthCaller() caller: Caller,
    @Body() body: CreateAccountDto,
    @ApiContext() context: CommandContext,
    @ReadAhead() readAhead: AccountsReadAhead | undefined,
    @Req() request: FastifyRequest,
  ): Promise<AccountResource> {
    const idempotency = idempotencyKeyOf(request, caller.sid, `${API_VERSION_PATH}/Accounts.json`, { FriendlyName: body.FriendlyName });
    const account = await this.commands.execute(new CreateSubaccountCommand(caller.sid, body.FriendlyName, context, idempotency, readAhead));
    return toAccountResource(account);
  }

  @Get('Accounts/:sid')
  @ACCOUNT
  @ACCOUNT_ANSWER(200)
  @ApiOperation({ operationId: 'FetchAccount', summary: 'One account: the caller itself or one of its subaccounts' })
  @ApiParam({ name: 'sid', description: '{Sid}.json — AC + 32 hex, then .json (.xml or none: XML, .csv: CSV)' })
  @ApiOkResponse({ type: AccountSchema })
  @ApiResponse({ status: 404, description: 'Unknown, malformed, or not the caller’s (20404)', type: TwilioErrorSchema })
  @Authenticated(({ sid }) => accountSidOf(sid))
  async fetch(
    @AuthCaller() caller: Caller,
    @Param('sid') segment: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Req() request: FastifyRequest,
  ): Promise<AccountResource> {
    // GET and HEAD are answered before Nest by the same function (account-fetch.ts); this stays the
    // route's definition, and its answer where that hook is not installed.
    return fetchAccount(this.queries, caller, segment, row, request.url.split('?')[0]);
  }

  @Post('Accounts/:sid')
  @ACCOUNT
  @ACCOUNT_ANSWER(200)
  @ApiOperation({ operationId: 'UpdateAccount', summary: 'Rename an account and/or change a subaccount’s status' })
  @ApiParam({ name: 'sid', description: '{Sid}.json — AC + 32 hex, then .json (.xml or none: XML, .csv: CSV)' })
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOkResponse({ type: AccountSchema })
  @ApiResponse({
    status: 400,
    description: 'Bad FriendlyName (20002), bad Status (21475), owner suspended (21476), main changing its own status (21477), closed (21479)',
    type: TwilioErrorSchema,
  })
  @ApiResponse({ status: 403, description: 'A subaccount changing its own status (20006)', type: TwilioErrorSchema })
  @ApiResponse({ status: 404, description: 'Unknown, malformed, or not the caller’s (20404)', type: TwilioErrorSchema })
  @HttpCode(200)
  @Authenticated(({ sid }) => accountSidOf(sid), { command: true })
  async update(
    @AuthCaller() caller: Caller,
    @Param('sid') segment: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Body() body: UpdateAccountDto,
    @ApiContext() context: CommandContext,
    @ReadAhead() readAhead: AccountsReadAhead | undefined,
    @Req() request: FastifyRequest,
  ): Promise<AccountResource> {
    const sid = this.sidOf(segment, request);
    // Visibility first: an account the caller may not see does not exist for it.
    if (!(await this.queries.execute(new GetAccountQuery(caller, sid, true, row)))) throw TwilioErrors.notFound(request.url.split('?')[0]);
    const status = parseAccountStatus(body.Status);
    const idempotency = idempotencyKeyOf(request, caller.sid, accountUri(sid), { FriendlyName: body.FriendlyName, Status: status });
    const account = await this.commands.execute(
      new UpdateAccountCommand(sid, { friendlyName: body.FriendlyName, status }, { ...context, actorSid: caller.sid }, idempotency, readAhead),
    );
    return toAccountResource(account);
  }

  // One handler per verb: stacked route decorators on one method overwrite each other, so only
  // the last would be routed and the others would fall through to 404. Credentials first, as for
  // the methods the paths have: without them the answer is 401 whatever the method.
  @Put(PATHS)
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ALLOWED);
  }

  @Delete(PATHS)
  @ApiExcludeEndpoint()
  @Authenticated()
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ALLOWED);
  }

  @Patch(PATHS)
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ALLOWED);
  }

  /** No CORS: like Twilio's v2010 API, this one is not for scripts on other origins (README). */
  @Options(PATHS)
  @ApiExcludeEndpoint()
  @Authenticated()
  options(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, ALLOWED);
  }

  /** `{Sid}`, `{Sid}.json|.xml|.csv`: anything else, a malformed sid included, is 404 (our choice). */
  private sidOf(segment: string, request: FastifyRequest): string {
    const sid = accountSidOf(segment);
    if (sid === null) throw TwilioErrors.notFound(request.url.split('?')[0]);
    return sid;
  }
}

