import twilio from 'twilio';
import type { AccountRecord } from '@accountable/accounts';
import type { TestApp } from '../support/test-app';
import type { Credentials, StoredEvent } from '../api/accounts-api.helpers';

/** twilio-node pointed at the service for every domain the Event Streams tests speak (EVENT-STREAMS.md §10). */
export function eventsClient(t: TestApp, account: Credentials): twilio.Twilio {
  const client = twilio(account.sid, account.authToken);
  client.api.baseUrl = t.baseUrl;
  client.accounts.baseUrl = t.baseUrl;
  client.events.baseUrl = t.baseUrl;
  client.monitor.baseUrl = t.baseUrl;
  return client;
}

/** The events of an account's Event Streams configuration stream, oldest first. */
export async function configurationEvents(t: TestApp, accountSid: string): Promise<StoredEvent[]> {
  const { rows } = await t.database.pool.query<StoredEvent>(
    `SELECT event_id, stream_version::int AS stream_version, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`,
    [`event-streams-${accountSid}`],
  );
  return rows;
}

/** A webhook sink's configuration; by default a port nothing listens on (the sink is never sent to). */
export const webhook = (destination = 'http://127.0.0.1:9/hook', batchEvents = false) => ({ destination, method: 'POST', batch_events: batchEvents });

/** Who the sink specs act as: a Full main with two subaccounts of its own, and a stranger (another main). */
export async function sinkSpecAccounts(t: TestApp): Promise<{ main: AccountRecord; stranger: AccountRecord; sub: Credentials; sibling: Credentials }> {
  const main = await t.createMain('Main', 'Full');
  const stranger = await t.createMain('Stranger', 'Full');
  const accounts = eventsClient(t, main).api.v2010.accounts;
  const sub = await accounts.create({ friendlyName: 'Sub' });
  const sibling = await accounts.create({ friendlyName: 'Sibling' });
  return { main, stranger, sub, sibling };
}
