import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { FeedPosition, Projection, RecordedEvent } from '@accountable/event-store';
import { deliverableOf, toCloudEvent, type DeliverableEvent } from '../catalog';
import type { AccountOwners } from './account-owners';
import { backoffMs, type RetryPolicy } from './retry-policy';
import { sinkProjectionName, type DeliverySink, type SinkStateStore } from './sink-state.store';
import type { PreparedEvent, SinkTransport } from './sink-transports';

/**
 * The sink cannot be delivered to from here on (deleted, not `active`, or the process is stopping):
 * the batch is not applied and its checkpoint does not move. Its `code` makes the runner take it
 * as transient (retry later, park nothing); the delivery service removes the sink meanwhile.
 */
export class DeliveryStoppedError extends Error {
  override readonly name = 'DeliveryStoppedError';
  readonly code = 'DELIVERY_STOPPED';
}

export interface SinkDeliveryContext {
  store: SinkStateStore;
  owners: AccountOwners;
  /** Opens the transport of a sink as it is configured now. */
  transport(sink: DeliverySink): SinkTransport;
  /** PUBLIC_URL (or the listening address): the base of the URLs in a CloudEvent. */
  baseUrl(): string;
  retry: RetryPolicy;
  /** Aborted when the process stops: a backoff in progress ends at once. */
  signal: AbortSignal;
  /** The sink is gone or not active: stop running it (not awaited: called from inside its batch). */
  stopped(sinkSid: string): void;
  /** Each batch delivered, for the metrics. */
  delivered?(sinkSid: string, events: readonly RecordedEvent[]): void;
  failed?(sinkSid: string, kind: 'retry' | 'drop', code: number): void;
}

/** Requests delivered in a batch of the feed and not yet counted on the sink's row. */
interface Tally {
  delivered: number;
}

/** (transaction id, position) order: the feed's. */
const after = (event: RecordedEvent, position: FeedPosition) => {
  const a = BigInt(event.transactionId);
  const b = BigInt(position.transactionId);
  return a > b || (a === b && event.globalPosition > position.globalPosition);
};

/**
 * One sink's delivery, run by the projection runner: its own checkpoint (`sink:DG…`), one leader
 * across processes. `ownTransactions`: a delivery is not a database write, so no transaction is
 * held open while a receiver answers (that would hold back every projection's feed); the
 * checkpoint moves once the batch is delivered, so a crash before that delivers it again
 * (at-least-once; the CloudEvent id is the same each time).
 *
 * Events go out in feed order, each request after the previous one succeeded or was dropped, so
 * an account's events arrive in the order they happened. A request that can be retried (5xx,
 * 429, no connection, no answer) is retried with exponential backoff and jitter, holding the
 * sink's later events back, until the retry window runs out: the sink is then `failed` and stops
 * where it was. Nothing of this touches another sink or projection: each has its own loop.
 */
export class SinkDeliveryProjection implements Projection {
  readonly name: string;
  readonly ownTransactions = true;
  private open?: { key: string; transport: SinkTransport };

  constructor(
    readonly sinkSid: string,
    private readonly context: SinkDeliveryContext,
  ) {
    this.name = sinkProjectionName(sinkSid);
  }

  async apply(_db: Kysely<Database>, events: readonly RecordedEvent[]): Promise<void> {
    const { store, signal } = this.context;
    if (signal.aborted) throw new DeliveryStoppedError('stopping');
    const sink = await store.load(this.sinkSid);
    // A sink under test (`validating`) receives the test event only; its events wait at the checkpoint for Validate.
    if (!sink || sink.status !== 'active') {
      this.context.stopped(this.sinkSid);
      throw new DeliveryStoppedError(sink ? `sink ${this.sinkSid} is ${sink.status}` : `sink ${this.sinkSid} was deleted`);
    }
    const prepared = await this.prepare(sink, events);
    if (prepared.length === 0) return;
    const transport = this.transportFor(sink);
    const tally: Tally = { delivered: 0 };
    try {
      for (const batch of transport.batches(prepared)) await this.deliver(sink, transport, batch, tally);
    } finally {
      await this.count(sink.sid, tally);
    }
  }

  /** A sink has no table of its own: there is nothing to empty. */
  async reset(): Promise<void> {}

  async close(): Promise<void> {
    const open = this.open;
    this.open = undefined;
    await open?.transport.close();
  }

  private prepare(sink: DeliverySink, events: readonly RecordedEvent[]): Promise<PreparedEvent[]> {
    return eventsForSink(sink, events, this.context.owners, this.context.baseUrl());
  }

  /**
   * Writes the requests delivered so far to the sink's counters: once per batch of the feed (one
   * statement per request was most of this pool's work under load, each request waiting on it),
   * and before a failure is recorded, which a success must first clear (its retry window starts anew).
   */
  private async count(sinkSid: string, tally: Tally): Promise<void> {
    if (tally.delivered === 0) return;
    const delivered = tally.delivered;
    tally.delivered = 0;
    await this.context.store.delivered(sinkSid, delivered);
  }

  private async deliver(sink: DeliverySink, transport: SinkTransport, batch: readonly PreparedEvent[], tally: Tally): Promise<void> {
    const { store, retry, signal } = this.context;
    const events = batch.map((p) => p.event);
    for (let attempt = 0; ; attempt += 1) {
      const outcome = await transport.send(batch);
      if (outcome.kind === 'delivered') {
        tally.delivered += batch.length;
        this.context.delivered?.(sink.sid, events);
        return;
      }
      this.context.failed?.(sink.sid, outcome.kind, outcome.code);
      await this.count(sink.sid, tally);
      if (outcome.kind === 'drop') {
        await store.dropped(sink.sid, events, outcome);
        return;
      }
      const since = await store.failedAttempt(sink.sid, outcome);
      if (Date.now() - since.getTime() >= retry.windowMs) {
        await store.markFailed(sink.sid);
        this.context.stopped(sink.sid);
        throw new DeliveryStoppedError(`sink ${sink.sid} failed: retried for ${Math.round(retry.windowMs / 1000)} s (${outcome.reason})`);
      }
      await sleep(backoffMs(retry, attempt), signal);
      if (signal.aborted) throw new DeliveryStoppedError('stopping');
    }
  }

  /** One transport per sink, opened again if its configuration changed (a connection is kept across batches). */
  private transportFor(sink: DeliverySink): SinkTransport {
    const key = JSON.stringify([sink.sinkType, sink.configuration, sink.destinationPasswordSealed]);
    if (this.open?.key !== key) {
      void this.open?.transport.close();
      this.open = { key, transport: this.context.transport(sink) };
    }
    return this.open.transport;
  }
}

/**
 * The events this sink receives, as CloudEvents: account changes of a subscribed type, committed
 * after the subscription, that the sink's account may see under /v1/Events' rules — a main
 * account its own and its subaccounts', a subaccount its own; never a sibling's.
 */
export async function eventsForSink(sink: DeliverySink, events: readonly RecordedEvent[], owners: AccountOwners, baseUrl: string): Promise<PreparedEvent[]> {
  const subscription = sink.subscription;
  if (!subscription) return [];
  const wanted: DeliverableEvent[] = [];
  for (const event of events) {
    if (!after(event, subscription.from)) continue;
    const deliverable = deliverableOf(event);
    if (!deliverable || !subscription.types.has(deliverable.info.type)) continue;
    // A subaccount's sink needs no owner to decide: only its own events.
    if (!sink.isMain && deliverable.resourceSid !== sink.accountSid) continue;
    wanted.push(deliverable);
  }
  if (wanted.length === 0) return [];
  for (const d of wanted) if (d.knownOwner) owners.remember(d.resourceSid, d.knownOwner);
  const ownerOf = await owners.ownersOf(wanted.map((d) => d.resourceSid));
  const prepared: PreparedEvent[] = [];
  for (const d of wanted) {
    const owner = ownerOf.get(d.resourceSid);
    if (!owner) continue; // no creation event: not an account anyone can see
    if (sink.isMain ? owner !== sink.accountSid : d.resourceSid !== sink.accountSid) continue;
    prepared.push({ event: d.event, cloudEvent: toCloudEvent(d, owner, baseUrl), resourceSid: d.resourceSid });
  }
  return prepared;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
