import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import {
  CreateSubaccountCommand,
  GetAccountQuery,
  ListAccountsQuery,
  UpdateAccountCommand,
  type Caller,
  type CommandContext,
} from '@accountable/accounts';
import {
  decodePageToken,
  encodePageToken,
  isAccountSid,
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
import { AuthCaller, BasicAuthGuard } from '../http/basic-auth.guard';
import { ApiContext } from '../http/request-context';
import { CreateAccountDto, ListAccountsQueryDto, UpdateAccountDto } from './account.dto';

/** Twilio REST API v2010 Accounts: thin, everything decided by the command and query handlers. */
@Controller('2010-04-01')
export class AccountsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('Accounts.json')
  @UseGuards(BasicAuthGuard)
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

  @Post('Accounts.json')
  @HttpCode(201)
  @UseGuards(BasicAuthGuard)
  async create(@AuthCaller() caller: Caller, @Body() body: CreateAccountDto, @ApiContext() context: CommandContext): Promise<AccountResource> {
    const account = await this.commands.execute(new CreateSubaccountCommand(caller.sid, body.FriendlyName, context));
    return toAccountResource(account);
  }

  @Get('Accounts/:sid')
  @UseGuards(BasicAuthGuard)
  async fetch(@AuthCaller() caller: Caller, @Param('sid') sidJson: string, @Req() request: FastifyRequest): Promise<AccountResource> {
    const account = await this.queries.execute(new GetAccountQuery(caller, this.sidOf(sidJson, request)));
    if (!account) throw TwilioErrors.notFound(request.url.split('?')[0]);
    return toAccountResource(account);
  }

  @Post('Accounts/:sid')
  @HttpCode(200)
  @UseGuards(BasicAuthGuard)
  async update(
    @AuthCaller() caller: Caller,
    @Param('sid') sidJson: string,
    @Body() body: UpdateAccountDto,
    @ApiContext() context: CommandContext,
    @Req() request: FastifyRequest,
  ): Promise<AccountResource> {
    const sid = this.sidOf(sidJson, request);
    // Visibility first: an account the caller may not see does not exist for it.
    if (!(await this.queries.execute(new GetAccountQuery(caller, sid, true)))) throw TwilioErrors.notFound(request.url.split('?')[0]);
    const status = parseAccountStatus(body.Status);
    const account = await this.commands.execute(
      new UpdateAccountCommand(sid, { friendlyName: body.FriendlyName, status }, { ...context, actorSid: caller.sid }),
    );
    return toAccountResource(account);
  }

  // One handler per verb: stacked route decorators on one method overwrite each other, so only
  // the last would be routed and the others would fall through to 404.
  @Put(['Accounts.json', 'Accounts/:sid'])
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method);
  }

  @Delete(['Accounts.json', 'Accounts/:sid'])
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method);
  }

  @Patch(['Accounts.json', 'Accounts/:sid'])
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method);
  }

  /** `{Sid}.json`: anything else, a malformed sid included, is 404 (our choice). */
  private sidOf(sidJson: string, request: FastifyRequest): string {
    const sid = sidJson.endsWith('.json') ? sidJson.slice(0, -'.json'.length) : '';
    if (!isAccountSid(sid)) throw TwilioErrors.notFound(request.url.split('?')[0]);
    return sid;
  }
}
