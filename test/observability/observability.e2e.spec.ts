import { Writable } from 'node:stream';
import { sql } from 'kysely';
import twilio from 'twilio';
import { startTestApp, type TestApp } from '../support/test-app';

/** Logs, request ids, health and metrics, on the real application with its logs captured. */
describe('observability', () => {
  let t: TestApp;
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const logStream = new Writable({
    write(chunk, _encoding, done) {
      raw += chunk.toString();
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });

  beforeAll(async () => {
    t = await startTestApp({ logStream });
  });
  afterAll(() => t.close());

  it('one JSON log line per request, with method, path, status, duration and the Twilio-Request-Id', async () => {
    const main = await t.createMain('Observed', 'Full');
    const response = await fetch(`${t.baseUrl}/2010-04-01/Accounts.json`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${main.sid}:${main.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'FriendlyName=logged',
    });
    expect(response.status).toBe(201);
    const requestId = response.headers.get('twilio-request-id')!;
    expect(requestId).toMatch(/^RQ[0-9a-f]{32}$/);
    const { sid, auth_token: subToken } = (await response.json()) as { sid: string; auth_token: string };
    await new Promise((r) => setTimeout(r, 50));
    const line = lines.find((l) => l.request_id === requestId)!;
    expect(line).toMatchObject({ level: 'info', req: { method: 'POST', path: '/2010-04-01/Accounts.json' }, res: { status: 201 } });
    expect(typeof line.duration_ms).toBe('number');
    expect(lines.filter((l) => l.request_id === requestId)).toHaveLength(1);
    // The same id in the metadata of the events the request caused.
    const { rows } = await sql<{ metadata: { requestId: string } }>`
      SELECT metadata FROM events WHERE stream_id = ${`account-${sid}`}`.execute(t.database.db);
    expect(rows[0].metadata.requestId).toBe(requestId);
    // Credentials never reach the logs.
    expect(raw).not.toContain(main.authToken);
    expect(raw).not.toContain(subToken);
    expect(raw).not.toMatch(/Basic [A-Za-z0-9+/=]{20,}/);
  });

  it('every response carries its own request id, errors included', async () => {
    const ids = new Set<string>();
    for (const path of ['/2010-04-01/Accounts.json', '/nowhere', '/health/live']) {
      const response = await fetch(`${t.baseUrl}${path}`);
      ids.add(response.headers.get('twilio-request-id')!);
    }
    expect(ids.size).toBe(3);
    for (const id of ids) expect(id).toMatch(/^RQ[0-9a-f]{32}$/);
  });

  it('health: live and ready with its checks', async () => {
    expect(await (await fetch(`${t.baseUrl}/health/live`)).json()).toMatchObject({ status: 'ok' });
    await t.drainProjections();
    const ready = await fetch(`${t.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { details: unknown };
    expect(body.details).toMatchObject({
      database: { status: 'up' },
      migrations: { status: 'up' },
      projections: { status: 'up', accounts: { lag_events: 0 }, audit: { lag_events: 0 } },
    });
  });

  it('metrics in Prometheus format: HTTP by route and status, appends, conflicts, projection position and lag', async () => {
    const main = await t.createMain('Metered', 'Full');
    const client = twilio(main.sid, main.authToken);
    client.api.baseUrl = t.baseUrl;
    await client.api.v2010.accounts.create({ friendlyName: 'm' });
    await client.api.v2010.accounts.list();
    await t.drainProjections();
    const response = await fetch(`${t.baseUrl}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/2010-04-01\/Accounts.json",status_code="201"\} [1-9]/m);
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{le="0.1",method="GET",route="\/2010-04-01\/Accounts.json",status_code="200"\} [1-9]/m);
    expect(text).toMatch(/^eventstore_appends_total\{outcome="appended"\} [1-9]/m);
    expect(text).toMatch(/^eventstore_version_conflicts_total \d+/m);
    for (const name of ['accounts', 'audit', 'owner-cascade']) {
      expect(text).toMatch(new RegExp(`^projection_position\\{projection="${name}"\\} [1-9]`, 'm'));
      expect(text).toMatch(new RegExp(`^projection_lag_events\\{projection="${name}"\\} 0`, 'm'));
    }
  });
});
