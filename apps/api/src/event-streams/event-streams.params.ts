import type { QueryBus } from '@nestjs/cqrs';
import { GetAccountQuery, type Caller } from '@accountable/accounts';
import type { FastifyRequest } from 'fastify';
import { EventStreamsRuleError, type SinkStatus } from '@accountable/event-streams';
import { singleParam, TwilioErrors } from '@accountable/twilio';

/**
 * Event Streams bodies are read here rather than through a DTO: `Types` is a repeated parameter
 * (twilio-node sends one `Types=<json>` per element), which the DTO pipe refuses by design.
 */
export type Params = Record<string, unknown>;

export function bodyOf(body: unknown): Params {
  if (body === undefined) return {};
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw TwilioErrors.invalidParameter('The request body must be a set of parameters');
  return body as Params;
}

/** Twilio's v1 wording (EVENT-STREAMS.md §7). */
export function missing(name: string) {
  return TwilioErrors.missingParameter(`Missing required parameter ${name} in the post body`);
}

/** A single value: a repeat is refused (a write must not guess which one was meant). */
export function optionalText(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw TwilioErrors.invalidParameter(`${name} must be given once, as a single value`);
}

export function requiredText(params: Params, name: string): string {
  const value = optionalText(params, name);
  if (value === undefined || value === '') throw missing(name);
  return value;
}

/** `SchemaVersion`: a positive integer (small: our schemas have single-digit versions). */
export function optionalSchemaVersion(params: Params): number | undefined {
  const text = optionalText(params, 'SchemaVersion');
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9][0-9]{0,5}$/.test(text)) throw TwilioErrors.invalidParameter('SchemaVersion must be a positive integer');
  return Number(text);
}

const MAX_TYPES = 50;
const MAX_TYPE_CHARS = 256;

/**
 * `Types`: one JSON object `{"type": …, "schema_version": …}` per value (a form repeats the
 * parameter; a JSON body may give an array of objects). A single JSON array in one value is
 * refused, as Twilio refuses it (LIVE: "Missing required input parameter event_types[0].type").
 */
export function subscriptionTypes(params: Params): { type: string; schemaVersion?: number }[] {
  const raw = params.Types;
  if (raw === undefined || raw === '') throw missing('Types');
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length > MAX_TYPES) throw new EventStreamsRuleError('subscription_types_invalid', `Types may name at most ${MAX_TYPES} event types`);
  return values.map((value, index) => {
    let item: unknown = value;
    if (typeof value === 'string') {
      try {
        item = JSON.parse(value);
      } catch {
        throw new EventStreamsRuleError('subscription_types_invalid', `Types[${index}] must be a JSON object with type and schema_version`);
      }
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new EventStreamsRuleError('subscription_types_invalid', `Missing required input parameter event_types[${index}].type`);
    }
    const { type, schema_version: schemaVersion, ...rest } = item as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new EventStreamsRuleError('subscription_types_invalid', `Types[${index}] takes only type and schema_version`);
    if (typeof type !== 'string' || type === '') throw new EventStreamsRuleError('subscription_types_invalid', `Missing required input parameter event_types[${index}].type`);
    if (type.length > MAX_TYPE_CHARS) throw new EventStreamsRuleError('subscription_types_invalid', `Types[${index}].type is too long`);
    if (schemaVersion === undefined || schemaVersion === null) return { type };
    if (typeof schemaVersion !== 'number' || !Number.isSafeInteger(schemaVersion) || schemaVersion < 1) {
      throw new EventStreamsRuleError('subscription_types_invalid', `Types[${index}].schema_version must be a positive integer`);
    }
    return { type, schemaVersion };
  });
}

const SINK_SID = /^DG[0-9a-fA-F]{32}$/;
const SUBSCRIPTION_SID = /^DF[0-9a-fA-F]{32}$/;

/** Twilio's pattern (either case); we issue lowercase only, so another spelling is simply unknown. */
export function sinkSidOf(value: string): string {
  if (!SINK_SID.test(value)) throw new EventStreamsRuleError('sink_sid_invalid', 'Invalid Sink Sid: DG followed by 32 hexadecimal digits');
  return value;
}

export function isSubscriptionSid(value: string): boolean {
  return SUBSCRIPTION_SID.test(value);
}

const SINK_STATUSES: readonly string[] = ['initialized', 'validating', 'active', 'failed'];

export function sinkStatusFilter(raw: unknown): SinkStatus | undefined {
  const value = singleParam(raw);
  if (value === undefined || value === '') return undefined;
  if (!SINK_STATUSES.includes(value)) throw TwilioErrors.invalidParameter('Status must be one of initialized, validating, active, failed');
  return value as SinkStatus;
}

/** `InUse`: Twilio's booleans are `true`/`false` (twilio-node sends them so). */
export function inUseFilter(raw: unknown): boolean | undefined {
  const value = singleParam(raw);
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === 'True') return true;
  if (value === 'false' || value === 'False') return false;
  throw TwilioErrors.invalidParameter('InUse must be true or false');
}

export function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0];
}

/** The caller's main account: itself, or a subaccount's owner (fixed for the account's life). */
export async function ownerAccountOf(queries: QueryBus, caller: Caller): Promise<string> {
  if (caller.isMain) return caller.sid;
  const account = await queries.execute(new GetAccountQuery(caller, caller.sid, true));
  // Authentication just read it as active; only a concurrent close could make it vanish.
  if (!account) throw TwilioErrors.unauthorized();
  return account.ownerAccountSid;
}
