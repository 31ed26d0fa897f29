import { Delete, Get, Controller, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AccountHistoryQuery, AccountStateAtQuery, GetAccountQuery, type Caller } from '@accountable/accounts';
import {
  isAccountSid,
  parsePage,
  parsePageSize,
  parseStateAt,
  toAccountHistoryPage,
  toAccountStateResource,
  TwilioErrors,
  type AccountHistoryPage,
  type AccountStateResource,
} from '@accountable/twilio';
import { AuthCaller, Authenticated, NamedAccount } from '../http/basic-auth';
import {
  AccountHistoryPageSchema,
  AccountHistoryQuerySchema,
  AccountStateQuerySchema,
  AccountStateSchema,
} from '../openapi/account-history.schemas';
import { TwilioErrorSchema } from '../openapi/twilio.schemas';

/** A read-only resource's methods, for the `Allow` header of a 405 (HEAD comes with every GET route). */
const READ_ONLY = ['GET', 'HEAD'];

const sidParam = ({ sid }: Record<string, string>): string | null => (isAccountSid(sid) ? sid : null);

/**
 * Our addition: an account's history and its state at a version or an instant, folded from the
 * event log (the same queries as `cli replay` and `cli state`). Visible exactly as through the
 * Accounts API: the caller itself and, for a main account, its subaccounts; anything else is 404.
 */
@ApiTags('Account history (our addition)')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials, or an inactive account (20003)', type: TwilioErrorSchema })
@ApiResponse({ status: 404, description: 'Unknown, malformed, or not the caller’s (20404)', type: TwilioErrorSchema })
@Controller('v1/Accounts/:sid')
export class AccountHistoryController {
  constructor(private readonly queries: QueryBus) {}

  @Get('History')
  @ApiOperation({ operationId: 'ListAccountHistory', summary: 'Every event of the account, oldest first: who, when, from where, what changed, the state after it, cause and effects' })
  @ApiParam({ name: 'sid', description: 'AC + 32 hex' })
  @ApiQuery({ type: AccountHistoryQuerySchema })
  @ApiOkResponse({ type: AccountHistoryPageSchema })
  @ApiResponse({ status: 400, description: 'PageSize over 1000 (20007), another bad paging value (20002)', type: TwilioErrorSchema })
  @Authenticated(sidParam)
  async history(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
  ): Promise<AccountHistoryPage> {
    await this.assertVisible(caller, sid, row, request);
    const pageSize = parsePageSize(query.PageSize);
    const page = parsePage(query.Page);
    const history = await this.queries.execute(new AccountHistoryQuery(caller, sid, page, pageSize));
    return toAccountHistoryPage({ sid, version: history.version, entries: history.entries, page, pageSize });
  }

  @Get('State')
  @ApiOperation({ operationId: 'FetchAccountState', summary: 'The account as it was after a version or at an instant, and how it differs now' })
  @ApiParam({ name: 'sid', description: 'AC + 32 hex' })
  @ApiQuery({ type: AccountStateQuerySchema })
  @ApiOkResponse({ type: AccountStateSchema })
  @ApiResponse({ status: 400, description: 'Not exactly one of Version and AsOf, a malformed one, or a Version after the current (20002)', type: TwilioErrorSchema })
  @Authenticated(sidParam)
  async state(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @NamedAccount() row: GetAccountQuery['row'],
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
  ): Promise<AccountStateResource> {
    await this.assertVisible(caller, sid, row, request);
    const at = parseStateAt(query);
    // The whole stream: the account now, as the same fold sees it.
    const now = await this.queries.execute(new AccountStateAtQuery(sid, { version: Number.MAX_SAFE_INTEGER }));
    if (!now) throw TwilioErrors.notFound(request.url.split('?')[0]);
    if ('version' in at && at.version > now.version) throw TwilioErrors.invalidParameter(`Version must be from 1 to ${now.version}`);
    const then = 'version' in at && at.version === now.version ? now : await this.queries.execute(new AccountStateAtQuery(sid, at));
    return toAccountStateResource({
      sid,
      requestedVersion: 'version' in at ? at.version : null,
      asOf: 'asOf' in at ? at.asOf : null,
      then,
      now,
    });
  }

  // Read-only resources. One handler per verb (see AccountsController).
  @Post(['History', 'State'])
  @ApiExcludeEndpoint()
  @Authenticated()
  post(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Put(['History', 'State'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Delete(['History', 'State'])
  @ApiExcludeEndpoint()
  @Authenticated()
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Patch(['History', 'State'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  /** As the Accounts API: an account the caller may not see does not exist for it (a malformed sid neither). */
  private async assertVisible(caller: Caller, sid: string, row: GetAccountQuery['row'], request: FastifyRequest): Promise<void> {
    if (!isAccountSid(sid) || !(await this.queries.execute(new GetAccountQuery(caller, sid, false, row)))) {
      throw TwilioErrors.notFound(request.url.split('?')[0]);
    }
  }
}
