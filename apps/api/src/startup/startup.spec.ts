import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentialsDestination, writeCredentialsFile } from './first-run';
import { readyBlock } from './ready-block';

const url = 'http://127.0.0.1:3000';
const credentials = { sid: `AC${'a'.repeat(32)}`, authToken: 'b'.repeat(32) };

describe('where the first run puts its token', () => {
  it.each([
    ['pretty', true, true, 'block'],
    ['pretty', true, false, 'block'],
    ['json', true, true, 'stderr'],
    ['pretty', false, true, 'stderr'],
    ['json', false, true, 'stderr'],
    ['json', false, false, 'file'],
    ['pretty', false, false, 'file'],
  ] as const)('format %s, stdout a TTY: %s, stderr a TTY: %s → %s', (format, stdout, stderr, where) => {
    expect(credentialsDestination(format, stdout, stderr)).toBe(where);
  });

  it('the file: mode 0600 even over an older, wider one, shell variables twilio-node reads', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'accountable-first-run-'));
    try {
      await writeFile(path.join(dir, 'first-run-credentials.env'), 'old', { mode: 0o644 });
      const file = await writeCredentialsFile(dir, url, credentials);
      expect(file).toBe(path.join(dir, 'first-run-credentials.env'));
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const text = await readFile(file, 'utf8');
      expect(text).toContain(`\nTWILIO_ACCOUNT_SID=${credentials.sid}\nTWILIO_AUTH_TOKEN=${credentials.authToken}\nACCOUNTABLE_URL=${url}\n`);
      expect(text).not.toContain('old');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the closing block', () => {
  it('first run: every address, the data directory, the credentials, curl and twilio-node', () => {
    const block = readyBlock({ role: 'all', url, dataDir: '.data', firstRun: credentials });
    for (const expected of ['/2010-04-01/Accounts.json', `${url}/docs`, `${url}/console`, `${url}/health/live`, `${url}/health/ready`, `${url}/metrics`, 'data     .data (embedded PostgreSQL)', `curl -u ${credentials.sid}:${credentials.authToken} ${url}/2010-04-01/Accounts.json`, `require('twilio')('${credentials.sid}', '${credentials.authToken}')`, `client.api.baseUrl = '${url}'`]) {
      expect(block).toContain(expected);
    }
  });

  it('a later start: the account count and how to get credentials, no token', () => {
    const block = readyBlock({ role: 'all', url, dataDir: '.data', accounts: { total: 12, main: 3 } });
    expect(block).toContain('data     .data (embedded PostgreSQL, 12 accounts, 3 main)');
    expect(block).toContain('npm run -s cli -- create-main');
    expect(block).not.toMatch(/auth token/);
  });

  it('credentials handed elsewhere are pointed to; a projector has no API lines; DATABASE_URL is named, not shown', () => {
    expect(readyBlock({ role: 'all', url, dataDir: '.data', credentialsElsewhere: 'the credentials are above, on stderr' })).toContain('First run: the credentials are above, on stderr');
    const projector = readyBlock({ role: 'projector', url });
    expect(projector).toContain('Accountable projector process is ready');
    expect(projector).not.toMatch(/docs|console|Accounts\.json/);
    expect(projector).toContain('data     DATABASE_URL');
  });
});
