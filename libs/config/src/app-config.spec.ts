import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('has a default for everything a laptop needs', () => {
    expect(loadConfig({})).toMatchObject({
      DATABASE_URL: undefined,
      DATA_DIR: '.data',
      PORT: 3000,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_FORMAT: undefined,
      TRUST_PROXY: false,
      DB_POOL_MAX: 20,
    });
  });

  it('takes valid values', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u@h:5432/d',
      READ_DATABASE_URL: 'postgresql://u@replica/d',
      ENCRYPTION_KEY: 'ab'.repeat(32),
      PORT: '0',
      TRUST_PROXY: 'true',
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
      DB_POOL_MAX: '5',
    });
    expect(config).toMatchObject({ PORT: 0, TRUST_PROXY: true, LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty', DB_POOL_MAX: 5 });
    expect(loadConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(loadConfig({ LOG_FORMAT: '' }).LOG_FORMAT).toBeUndefined();
  });

  it('TRUST_PROXY: false, true, a hop count, or proxy addresses and CIDRs', () => {
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.1' }).TRUST_PROXY).toEqual(['10.0.0.1']);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 2001:db8::/32,loopback' }).TRUST_PROXY).toEqual(['10.0.0.0/8', '2001:db8::/32', 'loopback']);
  });

  it('EGRESS_ALLOW: addresses and CIDRs, comma-separated; none by default', () => {
    expect(loadConfig({}).EGRESS_ALLOW).toEqual([]);
    expect(loadConfig({ EGRESS_ALLOW: '127.0.0.1' }).EGRESS_ALLOW).toEqual(['127.0.0.1']);
    expect(loadConfig({ EGRESS_ALLOW: ' 10.0.0.0/8, ::1 ,fd00::/8' }).EGRESS_ALLOW).toEqual(['10.0.0.0/8', '::1', 'fd00::/8']);
  });

  it('ENCRYPTION_PREVIOUS_KEYS: 64-hex-character keys, comma-separated', () => {
    expect(loadConfig({}).ENCRYPTION_PREVIOUS_KEYS).toBeUndefined();
    const list = ` ${'ab'.repeat(32)} , ${'CD'.repeat(32)}`;
    expect(loadConfig({ ENCRYPTION_PREVIOUS_KEYS: list }).ENCRYPTION_PREVIOUS_KEYS).toBe(list);
  });

  it('LEDGER: on (the default) or off, nothing else', () => {
    expect(loadConfig({}).LEDGER).toBe('on');
    expect(loadConfig({ LEDGER: '' }).LEDGER).toBe('on');
    expect(loadConfig({ LEDGER: 'off' }).LEDGER).toBe('off');
    for (const bad of ['false', 'OFF', '0', 'no']) expect(() => loadConfig({ LEDGER: bad })).toThrow('LEDGER must be on or off');
  });

  it('PUBLIC_URL: an http(s) base URL, kept without its trailing slash', () => {
    expect(loadConfig({}).PUBLIC_URL).toBeUndefined();
    expect(loadConfig({ PUBLIC_URL: 'https://api.example.com/' }).PUBLIC_URL).toBe('https://api.example.com');
    expect(loadConfig({ PUBLIC_URL: 'http://10.0.0.5:8080/accountable/' }).PUBLIC_URL).toBe('http://10.0.0.5:8080/accountable');
  });

  it('the limits have defaults no ordinary client meets, and a headers timeout may not exceed the request timeout', () => {
    expect(loadConfig({})).toMatchObject({
      MAX_BODY_BYTES: 1024 * 1024,
      MAX_PARAMETERS: 100,
      MAX_JSON_DEPTH: 32,
      RATE_LIMIT_REQUESTS_PER_ACCOUNT: 1000,
      RATE_LIMIT_REQUESTS_WINDOW_S: 1,
      RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS: 600,
      RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT: 1800,
      RATE_LIMIT_AUTH_FAILURES_WINDOW_S: 60,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 72_000,
      HTTP_MAX_CONNECTIONS: 10_000,
      HTTP_MAX_CONNECTIONS_PER_ADDRESS: 256,
    });
    expect(loadConfig({ RATE_LIMIT_REQUESTS_PER_ACCOUNT: '0' }).RATE_LIMIT_REQUESTS_PER_ACCOUNT).toBe(0);
    expect(() => loadConfig({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' })).toThrow(/HTTP_HEADERS_TIMEOUT_MS/);
  });

  it.each([
    ['DATABASE_URL', 'mysql://root@localhost/x'],
    ['READ_DATABASE_URL', 'not a url'],
    ['ENCRYPTION_KEY', 'abc'],
    ['ENCRYPTION_PREVIOUS_KEYS', `${'ab'.repeat(32)},${'cd'.repeat(31)}`],
    ['ENCRYPTION_PREVIOUS_KEYS', `${'ab'.repeat(32)};${'cd'.repeat(32)}`],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'text'],
    ['TRUST_PROXY', 'maybe'],
    ['DB_POOL_MAX', '0'],
    ['DB_STATEMENT_TIMEOUT_MS', '5'],
    ['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'soon'],
    ['PROJECTION_POLL_MS', '1'],
    ['READY_MAX_PROJECTION_LAG_S', '0'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
    ['TRUST_PROXY', '10.0.0.0/33'],
    ['TRUST_PROXY', '10.0.0.1,example.com'],
    ['TRUST_PROXY', '-1'],
    ['EVENT_STREAMS_RETRY_WINDOW_S', '0'],
    ['EGRESS_ALLOW', 'localhost'],
    ['EGRESS_ALLOW', '127.0.0.1,loopback'],
    ['EGRESS_ALLOW', '127.1'],
    ['EGRESS_ALLOW', '10.0.0.0/33'],
    ['PUBLIC_URL', 'ftp://example.com'],
    ['PUBLIC_URL', 'https://example.com/?x=1'],
    ['PUBLIC_URL', 'https://user:pw@example.com'],
    ['PUBLIC_URL', 'example.com'],
    ['MAX_BODY_BYTES', '10'],
    ['MAX_PARAMETERS', '0'],
    ['MAX_JSON_DEPTH', '0'],
    ['RATE_LIMIT_REQUESTS_PER_ACCOUNT', '-1'],
    ['RATE_LIMIT_REQUESTS_WINDOW_S', '0'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_ADDRESS', 'many'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_ACCOUNT', '1.5'],
    ['RATE_LIMIT_AUTH_FAILURES_WINDOW_S', '0'],
    ['HTTP_HEADERS_TIMEOUT_MS', '50'],
    ['HTTP_REQUEST_TIMEOUT_MS', 'never'],
    ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
    ['HTTP_MAX_CONNECTIONS', '-5'],
    ['HTTP_MAX_CONNECTIONS_PER_ADDRESS', 'x'],
  ])('refuses %s=%s with a message naming it', (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(name);
  });
});
