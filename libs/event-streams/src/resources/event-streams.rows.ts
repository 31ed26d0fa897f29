import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@accountable/database';
import type { EventStreamsState } from './event-streams.decide';
import type { EventStreamsEvent } from './event-streams.events';

/** Where an event sits in the log: sinks and subscriptions remember their creation's position. */
export interface AppliedAt {
  recordedAt: Date;
  transactionId: string;
  position: number;
}

/**
 * The one definition of each event's effect on the rows (the current state of every account's
 * Event Streams configuration). Run in the transaction that appended the event.
 */
export async function applyEventStreamsEvent(trx: Transaction<Database>, event: EventStreamsEvent, at: AppliedAt): Promise<void> {
  const now = at.recordedAt;
  switch (event.type) {
    case 'SinkCreated': {
      const d = event.data;
      await trx
        .insertInto('event_sinks')
        .values({
          sid: d.sinkSid,
          account_sid: d.accountSid,
          owner_account_sid: d.ownerAccountSid,
          description: d.description,
          sink_type: d.sinkType,
          sink_configuration: JSON.stringify(d.sinkConfiguration) as never,
          destination_password_sealed: d.destinationPasswordSealed,
          status: d.status,
          test_id: null,
          date_created: now,
          date_updated: now,
          created_transaction_id: at.transactionId,
          created_position: at.position,
        })
        .execute();
      return;
    }
    case 'SinkDescriptionChanged':
      await trx.updateTable('event_sinks').set({ description: event.data.description, date_updated: now }).where('sid', '=', event.data.sinkSid).execute();
      return;
    case 'SinkTestStarted':
      await trx.updateTable('event_sinks').set({ status: 'validating', test_id: event.data.testId, date_updated: now }).where('sid', '=', event.data.sinkSid).execute();
      return;
    // A validated sink starts afresh: the failures of its previous life are not its own any more.
    case 'SinkValidated':
      await trx
        .updateTable('event_sinks')
        .set({ status: 'active', test_id: null, failure_count: 0, first_failure_at: null, date_updated: now })
        .where('sid', '=', event.data.sinkSid)
        .execute();
      return;
    case 'SinkDeleted':
      await trx.deleteFrom('event_sinks').where('sid', '=', event.data.sinkSid).execute();
      return;
    case 'SubscriptionCreated': {
      const d = event.data;
      await trx
        .insertInto('event_subscriptions')
        .values({
          sid: d.subscriptionSid,
          account_sid: d.accountSid,
          owner_account_sid: d.ownerAccountSid,
          sink_sid: d.sinkSid,
          description: d.description,
          date_created: now,
          date_updated: now,
          created_transaction_id: at.transactionId,
          created_position: at.position,
        })
        .execute();
      await trx
        .insertInto('event_subscribed_types')
        .values(d.types.map((t) => ({ subscription_sid: d.subscriptionSid, type: t.type, schema_version: t.schemaVersion, account_sid: d.accountSid })))
        .execute();
      return;
    }
    case 'SubscriptionDescriptionChanged':
      await trx
        .updateTable('event_subscriptions')
        .set({ description: event.data.description, date_updated: now })
        .where('sid', '=', event.data.subscriptionSid)
        .execute();
      return;
    case 'SubscriptionDeleted':
      // Its types go with it (ON DELETE CASCADE).
      await trx.deleteFrom('event_subscriptions').where('sid', '=', event.data.subscriptionSid).execute();
      return;
    case 'SubscribedEventAdded': {
      const subscription = await trx.selectFrom('event_subscriptions').select('account_sid').where('sid', '=', event.data.subscriptionSid).executeTakeFirstOrThrow();
      await trx
        .insertInto('event_subscribed_types')
        .values({ subscription_sid: event.data.subscriptionSid, type: event.data.type, schema_version: event.data.schemaVersion, account_sid: subscription.account_sid })
        .execute();
      await touchSubscription(trx, event.data.subscriptionSid, now);
      return;
    }
    case 'SubscribedEventVersionChanged':
      await trx
        .updateTable('event_subscribed_types')
        .set({ schema_version: event.data.schemaVersion })
        .where('subscription_sid', '=', event.data.subscriptionSid)
        .where('type', '=', event.data.type)
        .execute();
      await touchSubscription(trx, event.data.subscriptionSid, now);
      return;
    case 'SubscribedEventRemoved':
      await trx.deleteFrom('event_subscribed_types').where('subscription_sid', '=', event.data.subscriptionSid).where('type', '=', event.data.type).execute();
      await touchSubscription(trx, event.data.subscriptionSid, now);
      return;
  }
}

async function touchSubscription(trx: Transaction<Database>, sid: string, now: Date): Promise<void> {
  await trx.updateTable('event_subscriptions').set({ date_updated: now }).where('sid', '=', sid).execute();
}

/** What the decisions read: the account's sinks and subscriptions, in three small statements. */
export async function loadEventStreamsState(db: Kysely<Database>, accountSid: string): Promise<EventStreamsState> {
  const [sinks, subscriptions, types] = await Promise.all([
    db.selectFrom('event_sinks').select(['sid', 'status', 'test_id']).where('account_sid', '=', accountSid).execute(),
    db.selectFrom('event_subscriptions').select(['sid', 'sink_sid']).where('account_sid', '=', accountSid).execute(),
    db.selectFrom('event_subscribed_types').select(['subscription_sid', 'type', 'schema_version']).where('account_sid', '=', accountSid).execute(),
  ]);
  const subscriptionOfSink = new Map(subscriptions.map((s) => [s.sink_sid, s.sid]));
  const typesOf = new Map<string, Map<string, number>>();
  for (const t of types) {
    const map = typesOf.get(t.subscription_sid) ?? new Map<string, number>();
    map.set(t.type, t.schema_version);
    typesOf.set(t.subscription_sid, map);
  }
  return {
    accountSid,
    sinks: new Map(sinks.map((s) => [s.sid, { status: s.status, testId: s.test_id, subscriptionSid: subscriptionOfSink.get(s.sid) ?? null }])),
    subscriptions: new Map(subscriptions.map((s) => [s.sid, { sinkSid: s.sink_sid, types: typesOf.get(s.sid) ?? new Map() }])),
  };
}
