import { randomUUID, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Kysely, Transaction } from 'kysely';
import { eventMetadata, IdempotencyStore, reviveRecordDates, type CommandContext, type IdempotencyKey } from '@accountable/accounts';
import type { Database } from '@accountable/database';
import { CommandConflictError, EventStore, storeAnswer } from '@accountable/event-store';
import { DB } from '@accountable/platform';
import { Keyring } from '@accountable/secrets';
import * as decide from './event-streams.decide';
import { eventStreamsStreamId, type EventStreamsEvent } from './event-streams.events';
import type { EventTypeCatalog } from './event-type-catalog';
import { applyEventStreamsEvent, loadEventStreamsState } from './event-streams.rows';
import { EventStreamsReader, type SinkRecord, type SubscribedEventRecord, type SubscriptionRecord } from './event-streams.reader';
import type { ParsedSinkConfiguration } from './sink-configuration';

export const newSinkSid = (): string => `DG${randomBytes(16).toString('hex')}`;
export const newSubscriptionSid = (): string => `DF${randomBytes(16).toString('hex')}`;

/** Twilio's answers to Test and Validate (EVENT-STREAMS.md §3). */
export type SinkTestAnswer = { result: 'submitted' };
export type SinkValidateAnswer = { result: 'valid' };

/** A Test: the answer, and the test id to send — null when it replays an earlier request's answer (nothing to send again). */
export interface StartedSinkTest {
  answer: SinkTestAnswer;
  testId: string | null;
}

/**
 * Every change to sinks and subscriptions: one decision on the account's current configuration,
 * read under its stream's lock (so caps and "in use" are decided on the latest state), one
 * append, and the rows written by applyEventStreamsEvent in the same transaction.
 *
 * `idempotency` (the request's Idempotency-Key): the answer is stored under the key in that
 * transaction by commit_command, as account commands store theirs (storeAnswer), so a retry of a
 * request that committed gets the first answer back and changes nothing.
 */
@Injectable()
export class EventStreamsCommands {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    private readonly keyring: Keyring,
    private readonly reader: EventStreamsReader,
    private readonly idempotency: IdempotencyStore,
  ) {}

  async createSink(
    input: { accountSid: string; ownerAccountSid: string; description: string; parsed: ParsedSinkConfiguration },
    context: CommandContext,
    idempotency?: IdempotencyKey,
  ): Promise<SinkRecord> {
    const sinkSid = newSinkSid();
    // Sealed with the sink's sid as context: the sealed value opens for this sink only.
    const sealed = input.parsed.destinationPassword === null ? null : this.keyring.seal(input.parsed.destinationPassword, sinkSid);
    return this.decideOn(
      input.accountSid,
      (state) => decide.createSink({ sinkSid, ownerAccountSid: input.ownerAccountSid, description: input.description, parsed: input.parsed, destinationPasswordSealed: sealed }, state),
      context,
      { answer: (trx) => this.mustFindSink(sinkSid, trx), revive: reviveRecordDates, key: idempotency },
    );
  }

  async updateSink(sink: SinkRecord, description: string, context: CommandContext, idempotency?: IdempotencyKey): Promise<SinkRecord> {
    return this.decideOn(sink.accountSid, (state) => decide.updateSink({ sinkSid: sink.sid, description, previous: sink.description }, state), context, {
      answer: (trx) => this.mustFindSink(sink.sid, trx),
      revive: reviveRecordDates,
      key: idempotency,
    });
  }

  async deleteSink(sink: SinkRecord, context: CommandContext): Promise<void> {
    await this.decideOn(sink.accountSid, (state) => decide.deleteSink({ sinkSid: sink.sid }, state), context);
  }

  /** A new test id (a UUID, as Twilio's); the caller sends the test event once this committed. */
  async startSinkTest(sink: SinkRecord, context: CommandContext, idempotency?: IdempotencyKey): Promise<StartedSinkTest> {
    const testId = randomUUID();
    let replayed = true;
    const answer = await this.decideOn(sink.accountSid, (state) => decide.startSinkTest({ sinkSid: sink.sid, testId }, state), context, {
      answer: async (): Promise<SinkTestAnswer> => {
        replayed = false;
        return { result: 'submitted' };
      },
      key: idempotency,
    });
    return { answer, testId: replayed ? null : testId };
  }

  async validateSink(sink: SinkRecord, testId: string, context: CommandContext, idempotency?: IdempotencyKey): Promise<SinkValidateAnswer> {
    return this.decideOn(sink.accountSid, (state) => decide.validateSink({ sinkSid: sink.sid, testId }, state), context, {
      answer: async (): Promise<SinkValidateAnswer> => ({ result: 'valid' }),
      key: idempotency,
    });
  }

  /** `catalog`: the event types a subscription may name (types are checked against it). */
  async createSubscription(
    input: Omit<decide.CreateSubscriptionInput, 'subscriptionSid'> & { accountSid: string },
    catalog: EventTypeCatalog,
    context: CommandContext,
    idempotency?: IdempotencyKey,
  ): Promise<SubscriptionRecord> {
    const subscriptionSid = newSubscriptionSid();
    return this.decideOn(input.accountSid, (state) => decide.createSubscription({ ...input, subscriptionSid }, state, catalog), context, {
      answer: (trx) => this.mustFindSubscription(subscriptionSid, trx),
      revive: reviveRecordDates,
      key: idempotency,
    });
  }

  async updateSubscription(subscription: SubscriptionRecord, description: string, context: CommandContext, idempotency?: IdempotencyKey): Promise<SubscriptionRecord> {
    return this.decideOn(
      subscription.accountSid,
      (state) => decide.updateSubscription({ subscriptionSid: subscription.sid, description, previous: subscription.description }, state),
      context,
      { answer: (trx) => this.mustFindSubscription(subscription.sid, trx), revive: reviveRecordDates, key: idempotency },
    );
  }

  async deleteSubscription(subscription: SubscriptionRecord, context: CommandContext): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.deleteSubscription({ subscriptionSid: subscription.sid }, state), context);
  }

  async addSubscribedEvent(
    subscription: SubscriptionRecord,
    added: { type: string; schemaVersion?: number },
    catalog: EventTypeCatalog,
    context: CommandContext,
    idempotency?: IdempotencyKey,
  ): Promise<SubscribedEventRecord> {
    return this.decideOn(subscription.accountSid, (state) => decide.addSubscribedEvent({ subscriptionSid: subscription.sid, ...added }, state, catalog), context, {
      answer: (trx) => this.mustFindSubscribedEvent(subscription.sid, added.type, trx),
      key: idempotency,
    });
  }

  async updateSubscribedEvent(
    subscription: SubscriptionRecord,
    changed: { type: string; schemaVersion?: number },
    catalog: EventTypeCatalog,
    context: CommandContext,
    idempotency?: IdempotencyKey,
  ): Promise<SubscribedEventRecord> {
    return this.decideOn(subscription.accountSid, (state) => decide.updateSubscribedEvent({ subscriptionSid: subscription.sid, ...changed }, state, catalog), context, {
      answer: (trx) => this.mustFindSubscribedEvent(subscription.sid, changed.type, trx),
      key: idempotency,
    });
  }

  async removeSubscribedEvent(subscription: SubscriptionRecord, type: string, context: CommandContext): Promise<void> {
    await this.decideOn(subscription.accountSid, (state) => decide.removeSubscribedEvent({ subscriptionSid: subscription.sid, type }, state), context);
  }

  private async decideOn(accountSid: string, decision: Decision, context: CommandContext): Promise<void>;
  private async decideOn<T>(accountSid: string, decision: Decision, context: CommandContext, answering: Answering<T>): Promise<T>;
  private async decideOn<T>(accountSid: string, decision: Decision, context: CommandContext, answering?: Answering<T>): Promise<T | void> {
    try {
      return await this.decideOnce(accountSid, decision, context, answering);
    } catch (error) {
      // A concurrent request under the same key (on another account's stream, so not queued
      // behind this one's lock) committed first: decided again, this one now finds its answer.
      if (!(error instanceof CommandConflictError)) throw error;
      return this.decideOnce(accountSid, decision, context, answering);
    }
  }

  private async decideOnce<T>(accountSid: string, decision: Decision, context: CommandContext, answering?: Answering<T>): Promise<T | void> {
    const streamId = eventStreamsStreamId(accountSid);
    const key = answering?.key;
    const done = await this.db.transaction().execute(async (trx) => {
      // The lock takes no transaction id, and the append below is the transaction's first write,
      // so the feed sees these events in version order (EventStore.append).
      await this.store.lockStream(streamId, trx);
      const stored = key ? await this.idempotency.liveRow(trx, key) : null;
      if (key && stored) return { appended: false, answer: this.idempotency.opened(key, stored, answering!.revive) };
      const state = await loadEventStreamsState(trx, accountSid);
      const events = decision(state);
      if (events.length > 0) {
        const version = await this.store.streamVersion(streamId, trx);
        const metadata = eventMetadata(context);
        const result = await this.store.append(streamId, events.map((e) => ({ type: e.type, data: e.data, metadata })), version ?? 'no_stream', trx);
        // Each decision yields one event: its position is the append's first.
        for (const event of events) {
          await applyEventStreamsEvent(trx, event, { recordedAt: result.recordedAt!, transactionId: result.transactionId!, position: result.firstPosition! });
        }
      }
      const answer = answering ? await answering.answer(trx) : undefined;
      // Last, under the stream's lock: a retry of this request on the same stream waits, then finds it.
      if (key) await storeAnswer(trx, this.idempotency.sealed(key, answer));
      return { appended: events.length > 0, answer };
    });
    if (done.appended) this.store.committed();
    return done.answer;
  }

  /** Read in the transaction that changed it: the answer is what this change made. */
  private async mustFindSink(sid: string, trx: Transaction<Database>): Promise<SinkRecord> {
    const sink = await this.reader.sink(sid, trx);
    if (!sink) throw new Error(`sink ${sid} is missing in the transaction that wrote it`);
    return sink;
  }

  private async mustFindSubscription(sid: string, trx: Transaction<Database>): Promise<SubscriptionRecord> {
    const subscription = await this.reader.subscription(sid, trx);
    if (!subscription) throw new Error(`subscription ${sid} is missing in the transaction that wrote it`);
    return subscription;
  }

  private async mustFindSubscribedEvent(subscriptionSid: string, type: string, trx: Transaction<Database>): Promise<SubscribedEventRecord> {
    const found = await this.reader.subscribedEvent(subscriptionSid, type, trx);
    if (!found) throw new Error(`subscribed event ${type} of ${subscriptionSid} is missing in the transaction that wrote it`);
    return found;
  }
}

type Decision = (state: decide.EventStreamsState) => EventStreamsEvent[];

/** What a command answers, read in its transaction; `revive` restores what the stored answer's JSON lost. */
interface Answering<T> {
  answer(trx: Transaction<Database>): Promise<T>;
  revive?: (json: T) => T;
  key?: IdempotencyKey;
}
