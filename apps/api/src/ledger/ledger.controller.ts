import { Controller, Delete, Get, Inject, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBasicAuth, ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Caller } from '@accountable/accounts';
import type { Database } from '@accountable/database';
import { LEDGER_OFF_MESSAGE, headToJson, latestHead, proofToJson, proveEvent, type InclusionProofJson, type TreeHeadJson } from '@accountable/ledger';
import { DB, RUNTIME, type Runtime } from '@accountable/platform';
import { GetAuditEventQuery } from '@accountable/accounts';
import { eventIdFromEventSid, isEventSid, twilioError, TwilioErrors } from '@accountable/twilio';
import { AuthCaller, Authenticated } from '../http/basic-auth';
import { PublicUrl } from '../http/public-url';
import { LedgerHeadSchema, LedgerProofSchema, TwilioErrorSchema } from '../openapi/twilio.schemas';

const TREE_SIZE = /^[1-9][0-9]{0,15}$/;
/** The `Allow` header of a 405 (HEAD comes with every GET route). */
const READ_ONLY = ['GET', 'HEAD'];

/**
 * The ledger over HTTP (our addition; Twilio has nothing like it): the latest signed head, so a
 * tenant can keep its own, and inclusion proofs of the events the caller may see — the same
 * visibility as Monitor's FetchEvent (the caller's own events and, for a main account, its
 * subaccounts'). Another tenant's events appear only as hashes on a proof's path. A proof
 * carries the event's leaf hash, not its stored encoding (that holds sealed auth tokens):
 * `ledger prove` on the CLI gives an operator both.
 */
@ApiTags('Ledger (our addition)')
@ApiBasicAuth('accountSid_authToken')
@ApiResponse({ status: 401, description: 'No or wrong credentials (20003)', type: TwilioErrorSchema })
@Controller('v1')
export class LedgerController {
  private readonly off: boolean;

  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly queries: QueryBus,
    private readonly publicUrl: PublicUrl,
    @Inject(RUNTIME) runtime: Runtime,
  ) {
    this.off = runtime.config.LEDGER === 'off';
  }

  /** LEDGER=off: the resource is not served here (404, saying why), rather than a stale head or proof. */
  private refuseWhenOff(): void {
    if (this.off) throw twilioError('notFound', LEDGER_OFF_MESSAGE);
  }

  @Get('Ledger/Head')
  @ApiOperation({ operationId: 'FetchLedgerHead', summary: "The ledger's latest signed tree head (RFC 9162 Merkle tree over the event log, Ed25519)" })
  @ApiOkResponse({ type: LedgerHeadSchema })
  @ApiResponse({ status: 404, description: 'No head signed yet, or the ledger is off (LEDGER=off) (20404)', type: TwilioErrorSchema })
  @Authenticated()
  async head(@Req() request: FastifyRequest): Promise<TreeHeadJson & { url: string }> {
    this.refuseWhenOff();
    const head = await latestHead(this.db);
    if (!head) throw TwilioErrors.notFound(request.url.split('?')[0]);
    return { ...headToJson(head), url: `${this.publicUrl.base}/v1/Ledger/Head` };
  }

  @Get('Events/:sid/Proof')
  @ApiOperation({ operationId: 'FetchEventProof', summary: 'An inclusion proof of an audit event in the latest signed head, or in the head of TreeSize' })
  @ApiParam({ name: 'sid', description: 'AE + 32 hex' })
  @ApiQuery({ name: 'TreeSize', required: false, description: 'The tree size of a head kept earlier: prove against it instead of the latest' })
  @ApiOkResponse({ type: LedgerProofSchema })
  @ApiResponse({ status: 400, description: 'TreeSize is not a positive integer or names no signed head (20002)', type: TwilioErrorSchema })
  @ApiResponse({ status: 404, description: 'Unknown, malformed, not visible to the caller, or not yet under a signed head; or the ledger is off (LEDGER=off) (20404)', type: TwilioErrorSchema })
  @Authenticated()
  async proof(
    @AuthCaller() caller: Caller,
    @Param('sid') sid: string,
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
  ): Promise<InclusionProofJson & { event_sid: string; url: string }> {
    this.refuseWhenOff();
    const path = request.url.split('?')[0];
    const treeSizeParam = query.TreeSize;
    if (treeSizeParam !== undefined && (typeof treeSizeParam !== 'string' || !TREE_SIZE.test(treeSizeParam) || !Number.isSafeInteger(Number(treeSizeParam)))) {
      throw TwilioErrors.invalidParameter('TreeSize must be the tree size of a signed head: a positive integer');
    }
    // Visibility first, as FetchEvent: a malformed sid, an unknown one and another tenant's all read the same.
    const eventId = isEventSid(sid) ? eventIdFromEventSid(sid) : null;
    const visible = eventId && (await this.queries.execute(new GetAuditEventQuery(caller, sid)));
    if (!eventId || !visible) throw TwilioErrors.notFound(path);
    const outcome = await proveEvent(this.db, eventId, treeSizeParam === undefined ? undefined : Number(treeSizeParam));
    if (outcome.kind === 'no_such_head') throw TwilioErrors.invalidParameter(`TreeSize ${outcome.treeSize} is the size of no signed head`);
    if (outcome.kind !== 'proof') throw TwilioErrors.notFound(path);
    return { event_sid: sid, ...proofToJson(outcome.proof, false), url: `${this.publicUrl.base}${path}` };
  }

  // Read-only. One handler per verb (see AccountsController).
  @Post(['Ledger/Head', 'Events/:sid/Proof'])
  @ApiExcludeEndpoint()
  @Authenticated()
  post(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Put(['Ledger/Head', 'Events/:sid/Proof'])
  @ApiExcludeEndpoint()
  @Authenticated()
  put(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Delete(['Ledger/Head', 'Events/:sid/Proof'])
  @ApiExcludeEndpoint()
  @Authenticated()
  delete(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }

  @Patch(['Ledger/Head', 'Events/:sid/Proof'])
  @ApiExcludeEndpoint()
  @Authenticated()
  patch(@Req() request: FastifyRequest): never {
    throw TwilioErrors.methodNotAllowed(request.method, READ_ONLY);
  }
}
