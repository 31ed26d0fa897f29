import { isIP } from 'node:net';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, ValidateBy, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value);
const emptyToUndefined = ({ value }: { value: unknown }) => (value === '' ? undefined : value);

/**
 * Every setting comes from the environment and is validated once at start-up; a bad value
 * stops the process with a message naming the variable. Defaults suit `npm start` on a laptop.
 */
export class AppConfig {
  @IsOptional() @Transform(emptyToUndefined) @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// connection string' })
  DATABASE_URL?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'READ_DATABASE_URL must be a postgres:// connection string' })
  READ_DATABASE_URL?: string;

  @IsString() @Transform(({ value }) => (value === undefined || value === '' ? '.data' : value))
  DATA_DIR = '.data';

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^[0-9a-fA-F]{64}$/, { message: 'ENCRYPTION_KEY must be 64 hex characters (32 bytes)' })
  ENCRYPTION_KEY?: string;

  /**
   * Keys that sealed secrets before ENCRYPTION_KEY (or the generated key) became the current one:
   * they open what they sealed and seal nothing. Comma-separated, 64 hex characters each.
   */
  @IsOptional()
  @Transform(emptyToUndefined)
  @Matches(/^\s*[0-9a-fA-F]{64}(\s*,\s*[0-9a-fA-F]{64})*\s*$/, { message: 'ENCRYPTION_PREVIOUS_KEYS must be 64-hex-character keys, comma-separated' })
  ENCRYPTION_PREVIOUS_KEYS?: string;

  @IsOptional() @Transform(emptyToUndefined) @Matches(/^[0-9a-fA-F]{64}$/, { message: 'LEDGER_SIGNING_KEY must be 64 hex characters (an Ed25519 private key)' })
  LEDGER_SIGNING_KEY?: string;

  /**
   * `off`: no process runs the ledger projection (its cost left out; README "The ledger"), and
   * the ledger's HTTP endpoints and CLI commands say so. Set it alike in every process.
   */
  @IsIn(['on', 'off'], { message: 'LEDGER must be on or off' })
  @Transform(({ value }) => (value === undefined || value === '' ? 'on' : value))
  LEDGER: 'on' | 'off' = 'on';

  @Transform(toInt) @IsInt({ message: 'PORT must be an integer' }) @Min(0, { message: 'PORT must be between 0 and 65535' }) @Max(65535, { message: 'PORT must be between 0 and 65535' })
  PORT = 3000;

  @IsString() @Transform(({ value }) => (value === undefined || value === '' ? '127.0.0.1' : value))
  HOST = '127.0.0.1';

  /**
   * Whom to believe about the client's address (X-Forwarded-For) and the request's host and
   * protocol: `false`, `true` (every peer), a hop count, or the proxies' addresses and CIDRs,
   * comma-separated (as Fastify's `trustProxy` takes them).
   */
  @Transform(({ value }) => parseTrustProxy(value))
  @ValidateBy({
    name: 'trustProxy',
    validator: {
      validate: (value: unknown) => typeof value === 'boolean' || Number.isSafeInteger(value) || Array.isArray(value),
      defaultMessage: () => 'TRUST_PROXY must be true, false, a hop count, or comma-separated proxy addresses or CIDRs',
    },
  })
  TRUST_PROXY: TrustProxy = false;

  /**
   * The service's address as its clients reach it (`https://api.example.com`), for the absolute
   * URLs in answers (Monitor Events). Unset: `http://HOST:PORT` as listening.
   */
  @IsOptional()
  @Transform(({ value }) => (value === undefined || value === '' ? undefined : normalisePublicUrl(value)))
  @ValidateBy({
    name: 'publicUrl',
    validator: {
      validate: (value: unknown) => value === undefined || (typeof value === 'string' && value.startsWith('http')),
      defaultMessage: () => 'PUBLIC_URL must be an http:// or https:// URL without credentials, query or fragment',
    },
  })
  PUBLIC_URL?: string;

  /**
   * Addresses and CIDRs that event-stream deliveries may reach although they are not public
   * (loopback, private, link-local, carrier-grade NAT, …), comma-separated: `127.0.0.1` for a
   * receiver on this machine. Empty: public unicast addresses only (the SSRF guard).
   */
  @Transform(({ value }) => parseAddressList(value))
  @ValidateBy({
    name: 'egressAllow',
    validator: {
      validate: (value: unknown) => Array.isArray(value),
      defaultMessage: () => 'EGRESS_ALLOW must be IP addresses or CIDRs, comma-separated',
    },
  })
  EGRESS_ALLOW: string[] = [];

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent' })
  @Transform(({ value }) => (value === undefined || value === '' ? 'info' : value))
  LOG_LEVEL = 'info';

  /**
   * `json`: one JSON object per line (pino), for log collectors. `pretty`: short human lines.
   * Unset: `pretty` when stdout is a terminal, `json` otherwise (piped, redirected, a container).
   */
  @IsOptional() @Transform(emptyToUndefined) @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be json or pretty' })
  LOG_FORMAT?: 'json' | 'pretty';

  @Transform(toInt) @IsInt({ message: 'DB_POOL_MAX must be an integer' }) @Min(1, { message: 'DB_POOL_MAX must be between 1 and 500' }) @Max(500, { message: 'DB_POOL_MAX must be between 1 and 500' })
  DB_POOL_MAX = 20;

  @Transform(toInt) @IsInt({ message: 'DB_STATEMENT_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'DB_STATEMENT_TIMEOUT_MS must be at least 100' })
  DB_STATEMENT_TIMEOUT_MS = 10_000;

  @Transform(toInt) @IsInt({ message: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be at least 100' })
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

  @Transform(toInt) @IsInt({ message: 'PROJECTION_POLL_MS must be an integer' }) @Min(10, { message: 'PROJECTION_POLL_MS must be at least 10' })
  PROJECTION_POLL_MS = 500;

  /**
   * Event Streams: how long a failing delivery is retried (exponential backoff with jitter) before
   * its sink becomes `failed` (Twilio retries for four hours).
   */
  @Transform(toInt) @IsInt({ message: 'EVENT_STREAMS_RETRY_WINDOW_S must be an integer' }) @Min(1, { message: 'EVENT_STREAMS_RETRY_WINDOW_S must be at least 1' })
  EVENT_STREAMS_RETRY_WINDOW_S = 4 * 60 * 60;

  /** /health/ready reports not ready while a projection lags more than this. */
  @Transform(toInt) @IsInt({ message: 'READY_MAX_PROJECTION_LAG_S must be an integer' }) @Min(1, { message: 'READY_MAX_PROJECTION_LAG_S must be at least 1' })
  READY_MAX_PROJECTION_LAG_S = 30;

  @Transform(toInt) @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be an integer' }) @Min(0, { message: 'SHUTDOWN_TIMEOUT_MS must be at least 0' })
  SHUTDOWN_TIMEOUT_MS = 10_000;

  // --- limits on what one request may ask of the service (README, "Reliability": "Limits") ---

  @Transform(toInt) @IsInt({ message: 'MAX_BODY_BYTES must be an integer' }) @Min(1024, { message: 'MAX_BODY_BYTES must be at least 1024' })
  MAX_BODY_BYTES = 1024 * 1024;

  /** Parameters in a body, and in a query string, each. */
  @Transform(toInt) @IsInt({ message: 'MAX_PARAMETERS must be an integer' }) @Min(1, { message: 'MAX_PARAMETERS must be at least 1' })
  MAX_PARAMETERS = 100;

  /** Nesting of arrays and objects in a JSON body (a set of parameters is depth 1). */
  @Transform(toInt) @IsInt({ message: 'MAX_JSON_DEPTH must be an integer' }) @Min(1, { message: 'MAX_JSON_DEPTH must be between 1 and 1000' }) @Max(1000, { message: 'MAX_JSON_DEPTH must be between 1 and 1000' })
  MAX_JSON_DEPTH = 32;

  /** Requests per authenticated account per window (0: no limit). */
  @Transform(toInt) @IsInt({ message: 'RATE_LIMIT_REQUESTS_PER_ACCOUNT must be an integer' }) @Min(0, { message: 'RATE_LIMIT_REQUESTS_PER_ACCOUNT must be at least 0' })
  RATE_LIMIT_REQUESTS_PER_ACCOUNT = 1000;

  @Transform(toInt) @IsInt({ message: 'RATE_LIMIT_REQUESTS_WINDOW_S must be an integer' }) @Min(1, { message: 'RATE_LIMIT_REQUESTS_WINDOW_S must be at least 1' })
  RATE_LIMIT_REQUESTS_WINDOW_S = 1;

  /** Failed authentications per client address per window (0: no limit). */
  @Transform(toInt) @IsInt({ message: 'RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS must be an integer' }) @Min(0, { message: 'RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS must be at least 0' })
  RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS = 600;

  /** Failed authentications per account sid per window (0: no limit). */
  @Transform(toInt) @IsInt({ message: 'RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT must be an integer' }) @Min(0, { message: 'RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT must be at least 0' })
  RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT = 1800;

  @Transform(toInt) @IsInt({ message: 'RATE_LIMIT_AUTH_FAILURES_WINDOW_S must be an integer' }) @Min(1, { message: 'RATE_LIMIT_AUTH_FAILURES_WINDOW_S must be at least 1' })
  RATE_LIMIT_AUTH_FAILURES_WINDOW_S = 60;

  /** From a connection's first byte (or the end of the previous request) to the end of the headers. */
  @Transform(toInt) @IsInt({ message: 'HTTP_HEADERS_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'HTTP_HEADERS_TIMEOUT_MS must be at least 100' })
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** The whole request, body included, must have arrived by then. */
  @Transform(toInt) @IsInt({ message: 'HTTP_REQUEST_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'HTTP_REQUEST_TIMEOUT_MS must be at least 100' })
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** An idle kept-alive connection is closed after this (above the 60 s of common load balancers). */
  @Transform(toInt) @IsInt({ message: 'HTTP_KEEP_ALIVE_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'HTTP_KEEP_ALIVE_TIMEOUT_MS must be at least 100' })
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 72_000;

  /** Open connections per process; beyond it, new ones are closed at once (0: no limit). */
  @Transform(toInt) @IsInt({ message: 'HTTP_MAX_CONNECTIONS must be an integer' }) @Min(0, { message: 'HTTP_MAX_CONNECTIONS must be at least 0' })
  HTTP_MAX_CONNECTIONS = 10_000;

  /** Open connections per client address, when TRUST_PROXY is false (0: no limit). */
  @Transform(toInt) @IsInt({ message: 'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be an integer' }) @Min(0, { message: 'HTTP_MAX_CONNECTIONS_PER_ADDRESS must be at least 0' })
  HTTP_MAX_CONNECTIONS_PER_ADDRESS = 256;
}

/** Fastify's `trustProxy` forms that the environment can spell. */
export type TrustProxy = boolean | number | string[];

/** proxy-addr's names for the reserved ranges, accepted in a TRUST_PROXY list. */
const PROXY_RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** TRUST_PROXY's text → its value; anything else is returned as given (and refused by validation). */
export function parseTrustProxy(value: unknown): unknown {
  if (value === undefined || value === '' || value === 'false' || value === false) return false;
  if (value === 'true' || value === true) return true;
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return value;
  if (/^\d{1,3}$/.test(value)) return Number(value);
  const entries = value.split(',').map((entry) => entry.trim());
  return entries.every(isProxyEntry) ? entries : value;
}

function isProxyEntry(entry: string): boolean {
  return PROXY_RANGE_NAMES.has(entry) || isAddressOrCidr(entry);
}

/** EGRESS_ALLOW's text → its entries; anything but addresses and CIDRs is returned as given (and refused). */
export function parseAddressList(value: unknown): unknown {
  if (value === undefined || value === '') return [];
  if (typeof value !== 'string') return value;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.every(isAddressOrCidr) ? entries : value;
}

/** `192.0.2.1`, `10.0.0.0/8`, `::1`, `fd00::/8`: an address in its canonical form, with an optional prefix length. */
export function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** PUBLIC_URL without a trailing slash; anything that is not a plain http(s) base URL is returned marked invalid. */
function normalisePublicUrl(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `invalid:${value}`;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || /[?#]/.test(value)) {
    return `invalid:${value}`;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment; throws a ConfigError whose message names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new AppConfig());
  const picked: Record<string, unknown> = {};
  for (const key of [...known, 'DATABASE_URL', 'READ_DATABASE_URL', 'ENCRYPTION_KEY', 'ENCRYPTION_PREVIOUS_KEYS', 'LEDGER_SIGNING_KEY', 'PUBLIC_URL', 'LOG_FORMAT']) if (env[key] !== undefined) picked[key] = env[key];
  const config = plainToInstance(AppConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length) {
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw new ConfigError(`invalid configuration: ${messages.join('; ')}`);
  }
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS) {
    throw new ConfigError('invalid configuration: HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  }
  return config;
}

/** For entry points: the validated configuration, or its message on stderr and this exit code. */
export function loadConfigOrExit(exitCode: number, env: Record<string, string | undefined> = process.env): AppConfig {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(exitCode);
  }
}
