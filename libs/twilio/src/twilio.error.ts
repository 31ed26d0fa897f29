export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

export class TwilioError extends Error {
  override readonly name = 'TwilioError';
  readonly moreInfo: string;

  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    /** Sent as `Retry-After` (seconds) with a 429. */
    readonly retryAfterS?: number,
    /** Sent as `Allow` with a 405: the methods the resource has (RFC 9110 requires it). */
    readonly allow?: string,
  ) {
    super(message);
    this.moreInfo = `https://www.twilio.com/docs/errors/${code}`;
  }

  /** The only error shape twilio-node understands (it builds RestException from it). */
  toBody(): TwilioErrorBody {
    return { code: this.code, message: this.message, more_info: this.moreInfo, status: this.status };
  }
}

export function isTwilioError(error: unknown): error is TwilioError {
  return error instanceof TwilioError;
}

/** Sent with every 401; twilio-node and curl rely on it to offer Basic auth. */
export const WWW_AUTHENTICATE = 'Basic realm="Twilio API"';

interface TwilioErrorSpec {
  readonly status: number;
  readonly code: number;
  readonly message: string;
}

/** Every error the service emits (COMPAT.md). Messages are defaults; callers may be more specific. */
export const TWILIO_ERROR_CATALOG = {
  invalidParameter: { status: 400, code: 20002, message: 'Invalid parameter' },
  unauthorized: { status: 401, code: 20003, message: 'Authentication Error - invalid username or password' },
  methodNotAllowed: { status: 405, code: 20004, message: 'Method not allowed' },
  forbidden: { status: 403, code: 20006, message: 'Access denied' },
  invalidPageSize: { status: 400, code: 20007, message: 'PageSize must be at most 1000' },
  notFound: { status: 404, code: 20404, message: 'The requested resource was not found' },
  subaccountCannotCreateSubaccount: { status: 400, code: 21101, message: 'A subaccount cannot create subaccounts' },
  invalidStatus: { status: 400, code: 21475, message: 'Status must be one of active, suspended, closed' },
  parentSuspended: { status: 400, code: 21476, message: 'The status of a subaccount cannot change while its owner account is suspended' },
  cannotChangeOwnStatus: { status: 400, code: 21477, message: 'A main account cannot change its own status' },
  accountClosed: { status: 400, code: 21479, message: 'A closed account cannot be changed' },
  subaccountLimitReached: { status: 400, code: 21480, message: 'The maximum number of subaccounts has been reached' },
  invalidPageToken: { status: 400, code: 21481, message: 'Invalid PageToken' },
  /**
   * An Idempotency-Key reused for another request (our choice: Twilio documents no such header).
   * 422 as the IETF Idempotency-Key draft has it; 20002 because the header is the bad parameter.
   */
  idempotencyKeyReused: { status: 422, code: 20002, message: 'This Idempotency-Key was already used with a different request' },
  /** Keys' FriendlyName over 64 characters (LIVE Test 29: Keys use 70001 where Accounts use 20002). */
  apiKeyConstraintViolation: { status: 400, code: 70001, message: 'The request has constraint violations' },
  invalidApiKeySid: { status: 400, code: 70002, message: 'Invalid Sid provided in the request' },
  /** The status is UNVERIFIED (CREDENTIALS.md §5): 400, as the other limits. */
  apiKeyLimitReached: { status: 400, code: 70151, message: 'Maximum Number Of API Keys Exceeded' },
  /** Twilio's v1 "Missing required parameter X in the post body" (EVENT-STREAMS.md §7). */
  missingParameter: { status: 400, code: 20001, message: 'Missing required parameter' },
  // Event Streams (ERRDICT, product "Events"). Statuses other than 91005's 400 are UNVERIFIED:
  // not found → 404, everything else → 400 (EVENT-STREAMS.md §7, INFERENCE).
  sinkCreateFailed: { status: 400, code: 91000, message: 'Sink creation failed' },
  sinkNotFound: { status: 404, code: 91001, message: 'Sink not found' },
  sinkLimitReached: { status: 400, code: 91003, message: 'Maximum number of sinks reached' },
  sinkTestNotFound: { status: 400, code: 91004, message: 'Test event cannot be found' },
  sinkTestIdInvalid: { status: 400, code: 91005, message: 'Test ID is invalid' },
  sinkSidInvalid: { status: 400, code: 91006, message: 'Invalid Sink Sid' },
  sinkInUse: { status: 400, code: 91007, message: 'Sink is in use' },
  sinkNotActive: { status: 400, code: 91100, message: 'Sink is not active' },
  subscriptionInvalid: { status: 400, code: 91101, message: 'Invalid subscription' },
  subscriptionNotFound: { status: 404, code: 91102, message: 'Subscription not found' },
  subscriptionTypesEmpty: { status: 400, code: 91103, message: 'The list of event types is empty' },
  eventTypeNotFound: { status: 400, code: 91104, message: 'Event type not found' },
  schemaNotFound: { status: 404, code: 91202, message: 'Schema or event type not found' },
  schemaDeleteNotAllowed: { status: 405, code: 91203, message: 'Schemas cannot be deleted' },
  tooManyRequests: { status: 429, code: 20429, message: 'Too Many Requests' },
  internal: { status: 500, code: 20500, message: 'Internal Server Error' },
  unavailable: { status: 503, code: 20503, message: 'Service Unavailable' },
} as const satisfies Record<string, TwilioErrorSpec>;

export type TwilioErrorKind = keyof typeof TWILIO_ERROR_CATALOG;

export function twilioError(kind: TwilioErrorKind, message?: string): TwilioError {
  const spec: TwilioErrorSpec = TWILIO_ERROR_CATALOG[kind];
  return new TwilioError(spec.status, spec.code, message ?? spec.message);
}

type Factories = { readonly [K in TwilioErrorKind]: (message?: string) => TwilioError };

const factories = Object.fromEntries(
  (Object.keys(TWILIO_ERROR_CATALOG) as TwilioErrorKind[]).map((kind) => [kind, (message?: string) => twilioError(kind, message)]),
) as unknown as Factories;

export const TwilioErrors: Omit<Factories, 'notFound' | 'methodNotAllowed' | 'tooManyRequests'> & {
  /** `path` is the request path as the client sent it, without the query string. */
  notFound(path?: string): TwilioError;
  /** `allow`: the methods the resource has, sent as the `Allow` header. */
  methodNotAllowed(method?: string, allow?: readonly string[]): TwilioError;
  /** The client may try again in `retryAfterS` seconds (at least 1). */
  tooManyRequests(retryAfterS: number, message?: string): TwilioError;
} = {
  ...factories,
  notFound: (path) =>
    twilioError('notFound', path === undefined ? undefined : `The requested resource ${path} was not found`),
  methodNotAllowed: (method, allow) => {
    const spec = TWILIO_ERROR_CATALOG.methodNotAllowed;
    const message = method === undefined ? spec.message : `Method ${method.toUpperCase()} not allowed`;
    return new TwilioError(spec.status, spec.code, message, undefined, allow?.join(', '));
  },
  tooManyRequests: (retryAfterS, message) => {
    const spec = TWILIO_ERROR_CATALOG.tooManyRequests;
    return new TwilioError(spec.status, spec.code, message ?? spec.message, Math.max(1, Math.ceil(retryAfterS)));
  },
};
