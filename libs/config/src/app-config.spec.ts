import { ConfigError, loadConfig } from './app-config';

describe('loadConfig', () => {
  it('has a default for everything a laptop needs', () => {
    expect(loadConfig({})).toMatchObject({
      DATABASE_URL: undefined,
      DATA_DIR: '.data',
      PORT: 3000,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
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
      DB_POOL_MAX: '5',
    });
    expect(config).toMatchObject({ PORT: 0, TRUST_PROXY: true, LOG_LEVEL: 'debug', DB_POOL_MAX: 5 });
  });

  it.each([
    ['DATABASE_URL', 'mysql://root@localhost/x'],
    ['READ_DATABASE_URL', 'not a url'],
    ['ENCRYPTION_KEY', 'abc'],
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'maybe'],
    ['DB_POOL_MAX', '0'],
    ['DB_STATEMENT_TIMEOUT_MS', '5'],
    ['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'soon'],
    ['PROJECTION_POLL_MS', '1'],
    ['READY_MAX_PROJECTION_LAG_S', '0'],
    ['SHUTDOWN_TIMEOUT_MS', '-1'],
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
