import { randomUUID, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { eventMetadata, type CommandContext } from '@accountable/accounts';
import type { Database } from '@accountable/database';
import { EventStore } from '@accountable/event-store';
import { DB } from '@accountable/platform';
import { Keyring } from '@accountable/secrets';
import * as decide from './event-streams.decide';
import { eventStreamsStreamId, type EventStreamsEvent } from './event-streams.events';
import type { EventTypeCatalog } from './event-type-catalog';
import { applyEventStreamsEvent, loadEventStreamsState } from './event-streams.rows';
import { EventStreamsReader, type SinkRecord, type SubscriptionRecord } from './event-streams.reader';
import type { ParsedSinkConfiguration } from './sink-configuration';

export const newSinkSid = (): string => `DG${randomBytes(16).toString('hex')}`;
export const newSubscriptionSid = (): string => `DF${randomBytes(16).toString('hex')}`;

/**
 * Every change to sinks and subscriptions: one decision on the account's current configuration,
 * read under its stream's lock (so caps and "in use" are decided on the latest state), one
 * append, and the rows written by applyEventStreamsEvent in the same transaction.
 */
@Injectable()
export class EventStreamsCommands {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    private readonly keyring: Keyring,
    private readonly reader: EventStreamsReader,
  ) {}

  async createSink(
    input: { accountSid: string; ownerAccountSid: string; description: string; parsed: ParsedSinkConfiguration },
    context: CommandContext,
  ): Promise<SinkRecord> {
    const sinkSid = newSinkSid();
    // Sealed with the sink's sid as context: the sealed value opens for this sink only.
    const sealed = input.parsed.destinationPassword === null ? null : this.keyring.seal(input.parsed.destinationPassword, sinkSid);
    await this.decideOn(
      input.accountSid,
      (state) => decide.createSink({ sinkSid, ownerAccountSid: input.ownerAccountSid, description: input.description, parsed: input.parsed, destinationPasswordSealed: sealed }, state),
      context,
    );
    return this.mustFindSink(sinkSid);
  }

  async updateSink(sink: SinkRecord, description: string, context: CommandContext): Promise<SinkRecord> {
    await this.decideOn(sink.accountSid, (state) => decide.updateSink({ sinkSid: sink.sid, description, previous: sink.description }, state), context);
    return this.mustFindSink(sink.sid);
  }

  async deleteSink(sink: SinkRecord, context: CommandContext): Promise<void> {
    await this.decideOn(sink.accountSid, (state) => decide.deleteSink({ sinkSid: sink.sid }, state), context);
  }

  /** A new test id (a UUID, as Twilio's); the caller sends the test event once this committed. */
  async startSinkTest(sink: SinkRecord, context: CommandContext): Promise<string> {
    const testId = randomUUID();
    await this.decideOn(sink.accountSid, (state) => decide.startSinkTest({ sinkSid: sink.sid, testId }, state), context);
    return testId;
  }

  async validateSink(sink: SinkRecord, testId: string, context: CommandContext): Promise<void> {
    await this.decideOn(sink.accountSid, (state) => decide.validateSink({ sinkSid: sink.sid, testId }, state), context);
  }

  /** `catalog`: the event types a subscription may name (types are checked against it). */
  async createSubscription(
    input: Omit<decide.CreateSubscriptionInput, 'subscriptionSid'> & { accountSid: string },
    catalog: EventTypeCatalog,
    context: CommandContext,
  ): Promise<SubscriptionRecord> {
    const subscriptionSid = newSubscriptionSid();
    await this.decideOn(input.accountSid, (state) => decide.createSubscription({ ...input, subscriptionSid }, state, catalog), context);
    return this.mustFindSubscription(subscriptionSid);
  }

  async updateSubscription(subscription: SubscriptionRecord, description: string, context: CommandContext): Promise<SubscriptionRecord> {
    await this.decideOn(
      subscription.accountSid,
      (state) => decide.updateSubscription({ subscriptionSid: subscription.sid, description, previous: subscription.description }, state),
      context,
    );
    return this.mustFindSubscription(subscription.sid);
  }

  async deleteSubscription(subscription: SubscriptionRecord, context: CommandContext): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.deleteSubscription({ subscriptionSid: subscription.sid }, state), context);
  }

  async addSubscribedEvent(
    subscription: SubscriptionRecord,
    added: { type: string; schemaVersion?: number },
    catalog: EventTypeCatalog,
    context: CommandContext,
  ): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.addSubscribedEvent({ subscriptionSid: subscription.sid, ...added }, state, catalog), context);
  }

  async updateSubscribedEvent(
    subscription: SubscriptionRecord,
    changed: { type: string; schemaVersion?: number },
    catalog: EventTypeCatalog,
    context: CommandContext,
  ): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.updateSubscribedEvent({ subscriptionSid: subscription.sid, ...changed }, state, catalog), context);
  }

  async removeSubscribedEvent(subscription: SubscriptionRecord, type: string, context: CommandContext): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.removeSubscribedEvent({ subscriptionSid: subscription.sid, type }, state), context);
  }

  private async decideOn(accountSid: string, decision: (state: decide.EventStreamsState) => EventStreamsEvent[], context: CommandContext): Promise<void> {
    const streamId = eventStreamsStreamId(accountSid);
    const appended = await this.db.transaction().execute(async (trx) => {
      // The lock takes no transaction id, and the append below is the transaction's first write,
      // so the feed sees these events in version order (EventStore.append).
      await this.store.lockStream(streamId, trx);
      const state = await loadEventStreamsState(trx, accountSid);
      const events = decision(state);
      if (events.length === 0) return false;
      const version = await this.store.streamVersion(streamId, trx);
      const metadata = eventMetadata(context);
      const result = await this.store.append(streamId, events.map((e) => ({ type: e.type, data: e.data, metadata })), version ?? 'no_stream', trx);
      // Each decision yields one event: its position is the append's first.
      for (const event of events) {
        await applyEventStreamsEvent(trx, event, { recordedAt: result.recordedAt!, transactionId: result.transactionId!, position: result.firstPosition! });
      }
      return true;
    });
    if (appended) this.store.committed();
  }

  private async mustFindSink(sid: string): Promise<SinkRecord> {
    const sink = await this.reader.sink(sid);
    // Deleted between the commit and this read: it existed, and nothing can be said of it now.
    if (!sink) throw new Error(`sink ${sid} vanished right after its change`);
    return sink;
  }

  private async mustFindSubscription(sid: string): Promise<SubscriptionRecord> {
    const subscription = await this.reader.subscription(sid);
    if (!subscription) throw new Error(`subscription ${sid} vanished right after its change`);
    return subscription;
  }
}
