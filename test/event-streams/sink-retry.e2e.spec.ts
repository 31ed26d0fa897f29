import type { AccountRecord } from '@accountable/accounts';
import { DeliveryService, StreamEventType } from '@accountable/event-streams';
import { runCli } from '../support/processes';
import { startTestApp, type TestApp } from '../support/test-app';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';
import { eventsClient, webhook } from './event-streams.helpers';

/**
 * `cli projections parked|retry sink:DG…` (the built CLI, as an operator runs it): a delivery the
 * receiver refused is parked; retried while it still refuses, it stays parked (exit 1); after the
 * receiver's fix it is delivered once, the same CloudEvent, signed (exit 0).
 */
describe('projections retry for an Event Streams sink’s parked deliveries', () => {
  let t: TestApp;
  let main: AccountRecord;
  let hook: WebhookReceiver;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, env);

  beforeAll(async () => {
    t = await startTestApp({ env: { EGRESS_ALLOW: '127.0.0.1' } });
    main = await t.createMain('Main', 'Full');
    hook = await startWebhookReceiver(() => 400);
    env = {
      DATABASE_URL: t.database.url,
      ENCRYPTION_KEY: t.runtime.config.ENCRYPTION_KEY!,
      DATA_DIR: t.runtime.config.DATA_DIR,
      EGRESS_ALLOW: '127.0.0.1',
      PUBLIC_URL: t.baseUrl,
    };
  });
  afterAll(async () => {
    await t.close();
    await hook.close();
  });

  it('parks a refused delivery, keeps it parked while still refused, delivers it once after the fix', async () => {
    const client = eventsClient(t, main);
    const sink = await client.events.v1.sinks.create({ description: 'refusing', sinkType: 'webhook', sinkConfiguration: webhook(hook.url()) });
    await client.events.v1.subscriptions.create({ description: 'renames', sinkSid: sink.sid, types: [{ type: StreamEventType.AccountRenamed }] });
    await t.app.get(DeliveryService).refresh();
    await client.api.v2010.accounts(main.sid).update({ friendlyName: 'Refused at first' });
    const name = `sink:${sink.sid}`;
    await eventually(
      async () => (await t.database.pool.query(`SELECT dropped_count FROM event_sinks WHERE sid = $1`, [sink.sid])).rows[0].dropped_count,
      (n) => n === 1,
      30_000,
      'the drop',
    );
    const [refused] = hook.requests;
    expect(refused.status).toBe(400);

    const parked = JSON.parse((await cli('projections', 'parked', name, '--json')).stdout) as { projection: string; event_id: string; error_code: string }[];
    expect(parked.map((p) => [p.projection, p.error_code])).toEqual([[name, '91305']]);

    const still = await cli('projections', 'retry', name, '--json');
    expect(still.code).toBe(1);
    expect(JSON.parse(still.stdout)).toEqual([expect.objectContaining({ event_id: parked[0].event_id, outcome: 'failed', error_code: '91305' })]);
    expect(hook.requests).toHaveLength(2);

    hook.answer = () => 200;
    const retried = await cli('projections', 'retry', name, '--json');
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toEqual([expect.objectContaining({ event_id: parked[0].event_id, outcome: 'applied' })]);
    // The same CloudEvent, byte for byte, signed for the sink's account as the service signs it.
    const delivered = hook.requests[2];
    expect(delivered.body).toBe(refused.body);
    expect(hook.valid(delivered, main.authToken)).toBe(true);

    const { rows } = await t.database.pool.query(`SELECT count(*)::int AS n FROM projection_parked_events WHERE projection = $1`, [name]);
    expect(rows[0].n).toBe(0);
    expect((await t.database.pool.query(`SELECT delivered_count FROM event_sinks WHERE sid = $1`, [sink.sid])).rows[0].delivered_count).toBe(1);
    const again = await cli('projections', 'retry', name);
    expect([again.code, again.stdout.trim()]).toEqual([0, `no parked events in ${name}`]);
    expect(hook.requests).toHaveLength(3);
  });

  it('refuses what it cannot do: no PUBLIC_URL (usage), an unknown sink name', async () => {
    const sid = `DG${'0'.repeat(32)}`;
    const { PUBLIC_URL: _, ...withoutUrl } = env;
    // Nothing parked under an unknown sink: nothing to do, said so.
    expect((await cli('projections', 'retry', `sink:${sid}`)).stdout.trim()).toBe(`no parked events in sink:${sid}`);
    const usage = await runCli(['projections', 'retry', `sink:${sid}`], withoutUrl);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/PUBLIC_URL/);
    expect((await cli('projections', 'retry', 'sink:DGnothex')).code).toBe(2);
  });
});
