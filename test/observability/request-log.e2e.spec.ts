import { Writable } from 'node:stream';
import type { AccountRecord } from '@accountable/accounts';
import { basic } from '../api/accounts-api.helpers';
import { startTestApp, type TestApp } from '../support/test-app';

/** The request line at each level: one per request at info; at warn only our own faults, with their cause. */
describe.each(['info', 'warn'])('request log at LOG_LEVEL=%s', (level) => {
  let t: TestApp;
  let main: AccountRecord;
  let broken: string;
  const lines: Record<string, any>[] = [];
  let raw = '';
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });

  beforeAll(async () => {
    t = await startTestApp({ logStream, env: { LOG_LEVEL: level } });
    main = await t.createMain('Logged', 'Full');
    const response = await fetch(`${t.baseUrl}/2010-04-01/Accounts.json`, {
      method: 'POST',
      headers: { authorization: basic(main), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'FriendlyName=broken',
    });
    broken = ((await response.json()) as { sid: string }).sid;
    // A stored token that no longer opens: fetching the account is our fault, a 500.
    await t.database.pool.query(`UPDATE account_read_model SET auth_token = 'v1.AAAA.AAAA.AAAA' WHERE sid = $1`, [broken]);
  });
  afterAll(() => t.close());

  async function request(path: string, authorization?: string): Promise<{ status: number; id: string }> {
    const response = await fetch(`${t.baseUrl}${path}`, { headers: authorization ? { authorization } : {} });
    await response.arrayBuffer();
    // The line is written when the response has gone out.
    await new Promise((r) => setTimeout(r, 20));
    return { status: response.status, id: response.headers.get('twilio-request-id')! };
  }

  const linesOf = (id: string) => lines.filter((l) => l.request_id === id);

  it('a success, a refusal and a 404: one line each at info, none at warn; never the query string', async () => {
    const answers = [
      await request(`/2010-04-01/Accounts/${main.sid}.json?Secret=query`, basic(main)),
      await request(`/2010-04-01/Accounts/${main.sid}.json`),
      await request(`/2010-04-01/Accounts/${'AC'.padEnd(34, '0')}.json`, basic(main)),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 401, 404]);
    for (const { status, id } of answers) {
      if (level === 'warn') {
        expect(linesOf(id)).toEqual([]);
        continue;
      }
      expect(linesOf(id)).toHaveLength(1);
      expect(linesOf(id)[0]).toMatchObject({ level: 'info', req: { method: 'GET' }, res: { status } });
      expect(typeof linesOf(id)[0].duration_ms).toBe('number');
    }
    expect(raw).not.toContain('Secret=query');
  });

  it('our own fault: one error line with its request id, path, status and cause, at either level', async () => {
    const { status, id } = await request(`/2010-04-01/Accounts/${broken}.json`, basic(main));
    expect(status).toBe(500);
    expect(linesOf(id)).toHaveLength(1);
    expect(linesOf(id)[0]).toMatchObject({
      level: 'error',
      req: { method: 'GET', path: `/2010-04-01/Accounts/${broken}.json` },
      res: { status: 500 },
      err: { type: 'SecretBoxError', message: expect.stringMatching(/malformed/) },
    });
    expect(raw).not.toContain(main.authToken);
  });
});
