import { Controller, Delete, Get, HttpCode, Patch, Post, Put, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOkResponse, ApiCreatedResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import {
  CreateSecondaryAuthTokenCommand,
  DeleteSecondaryAuthTokenCommand,
  PromoteAuthTokenCommand,
  type Caller,
  type CommandContext,
} from '@accountable/accounts';
import {
  toAuthTokenPromotionResource,
  toSecondaryAuthTokenResource,
  TwilioErrors,
  type AuthTokenPromotionResource,
  type SecondaryAuthTokenResource,
} from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { PublicUrl } from '../http/public-url';
import { ApiContext } from '../http/request-context';
import { AuthTokenPromotionSchema, SecondaryAuthTokenSchema, TwilioErrorSchema } from '../openapi/twilio.schemas';

/**
 * accounts.twilio.com v1 AuthTokens, served here: the authenticated account's own tokens (a
 * subaccount rotates its own). Account credentials only, either token; an API key is refused (20003).
 */
@ApiTags('AuthTokens v1 (accounts.twilio.com)')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials, an inactive account, or an API key (20003)', type: TwilioErrorSchema })
@Controller('v1/AuthTokens')
export class AuthTokensController {
  constructor(
    private readonly commands: CommandBus,
    private readonly publicUrl: PublicUrl,
  ) {}

  @Post('Secondary')
  @ApiOperation({ operationId: 'CreateSecondaryAuthToken', summary: 'A new secondary auth token (a second POST replaces the one there is)' })
  @ApiCreatedResponse({ type: SecondaryAuthTokenSchema })
  @HttpCode(201)
  @Authenticated()
  async createSecondary(@AuthCaller() caller: Caller, @ApiContext() context: CommandContext): Promise<SecondaryAuthTokenResource> {
    const issued = await this.commands.execute(new CreateSecondaryAuthTokenCommand(caller.sid, context));
    return toSecondaryAuthTokenResource(issued, this.publicUrl.base);
  }

  @Delete('Secondary')
  @ApiOperation({ operationId: 'DeleteSecondaryAuthToken', summary: 'Delete the secondary auth token' })
  @ApiResponse({ status: 204, description: 'Deleted: it no longer authenticates' })
  @ApiResponse({ status: 404, description: 'There is no secondary auth token (20404)', type: TwilioErrorSchema })
  @HttpCode(204)
  @Authenticated()
  async deleteSecondary(@AuthCaller() caller: Caller, @ApiContext() context: CommandContext): Promise<void> {
    await this.commands.execute(new DeleteSecondaryAuthTokenCommand(caller.sid, context));
  }

  @Post('Promote')
  @ApiOperation({ operationId: 'UpdateAuthTokenPromotion', summary: 'Promote the secondary auth token; the old primary is refused from then on' })
  @ApiOkResponse({ type: AuthTokenPromotionSchema })
  @ApiResponse({ status: 404, description: 'There is no secondary auth token (20404)', type: TwilioErrorSchema })
  @HttpCode(200)
  @Authenticated()
  async promote(@AuthCaller() caller: Caller, @ApiContext() context: CommandContext): Promise<AuthTokenPromotionResource> {
    const promoted = await this.commands.execute(new PromoteAuthTokenCommand(caller.sid, context));
    return toAuthTokenPromotionResource(promoted, this.publicUrl.base);
  }

  // Credentials first, as for Accounts, then 405 naming what the path allows. One handler per
  // verb: stacked route decorators on one method overwrite each other.
  @Get(['Secondary', 'Promote'])
  @ApiExcludeEndpoint()
  @Authenticated()
  get(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Put(['Secondary', 'Promote'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Patch(['Secondary', 'Promote'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }

  @Delete('Promote')
  @ApiExcludeEndpoint()
  @Authenticated()
  deletePromote(@Req() request: FastifyRequest): never {
    throw notAllowed(request);
  }
}

function notAllowed(request: FastifyRequest) {
  return TwilioErrors.methodNotAllowed(request.method, request.url.split('?')[0].endsWith('/Secondary') ? ['POST', 'DELETE'] : ['POST']);
}
