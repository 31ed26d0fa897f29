import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

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

  @Transform(toInt) @IsInt({ message: 'PORT must be an integer' }) @Min(0, { message: 'PORT must be between 0 and 65535' }) @Max(65535, { message: 'PORT must be between 0 and 65535' })
  PORT = 3000;

  @IsString() @Transform(({ value }) => (value === undefined || value === '' ? '127.0.0.1' : value))
  HOST = '127.0.0.1';

  /** Honour X-Forwarded-For from a reverse proxy for the audit trail's source IP. */
  @IsIn([true, false], { message: 'TRUST_PROXY must be true or false' })
  @Transform(({ value }) => (value === undefined || value === '' ? false : value === 'true' || value === true ? true : value === 'false' || value === false ? false : value))
  TRUST_PROXY = false;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { message: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent' })
  @Transform(({ value }) => (value === undefined || value === '' ? 'info' : value))
  LOG_LEVEL = 'info';

  @Transform(toInt) @IsInt({ message: 'DB_POOL_MAX must be an integer' }) @Min(1, { message: 'DB_POOL_MAX must be between 1 and 500' }) @Max(500, { message: 'DB_POOL_MAX must be between 1 and 500' })
  DB_POOL_MAX = 20;

  @Transform(toInt) @IsInt({ message: 'DB_STATEMENT_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'DB_STATEMENT_TIMEOUT_MS must be at least 100' })
  DB_STATEMENT_TIMEOUT_MS = 10_000;

  @Transform(toInt) @IsInt({ message: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be an integer' }) @Min(100, { message: 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be at least 100' })
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 10_000;

  @Transform(toInt) @IsInt({ message: 'PROJECTION_POLL_MS must be an integer' }) @Min(10, { message: 'PROJECTION_POLL_MS must be at least 10' })
  PROJECTION_POLL_MS = 500;

  /** /health/ready reports not ready while a projection lags more than this. */
  @Transform(toInt) @IsInt({ message: 'READY_MAX_PROJECTION_LAG_S must be an integer' }) @Min(1, { message: 'READY_MAX_PROJECTION_LAG_S must be at least 1' })
  READY_MAX_PROJECTION_LAG_S = 30;

  @Transform(toInt) @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be an integer' }) @Min(0, { message: 'SHUTDOWN_TIMEOUT_MS must be at least 0' })
  SHUTDOWN_TIMEOUT_MS = 10_000;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment; throws a ConfigError whose message names each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new AppConfig());
  const picked: Record<string, unknown> = {};
  for (const key of [...known, 'DATABASE_URL', 'READ_DATABASE_URL', 'ENCRYPTION_KEY']) if (env[key] !== undefined) picked[key] = env[key];
  const config = plainToInstance(AppConfig, picked, { exposeDefaultValues: true });
  const errors = validateSync(config, { forbidUnknownValues: false });
  if (errors.length) {
    const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
    throw new ConfigError(`invalid configuration: ${messages.join('; ')}`);
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
