import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { ParkedEventStore, type EventStore, type RetryOutcome } from '@accountable/event-store';
import { AccountOwners } from './account-owners';
import { eventsForSink } from './sink-delivery.projection';
import { SinkStateStore, sinkProjectionName } from './sink-state.store';
import type { SinkSenders } from './sink-senders';

/** A sink whose parked deliveries cannot be sent now (deleted, or not `active`): nothing was tried. */
export class SinkNotRetryableError extends Error {
  override readonly name = 'SinkNotRetryableError';
}

/**
 * `projections retry sink:DG…`: the deliveries a sink refused (a 4xx, a destination the egress
 * guard refused) sent again after a fix, each once, in feed order, through the same transport,
 * signing and guard as the runner. Not through ProjectionAdmin.retryParked: a sink's failures are
 * not the database's, and its retry must send once and report, not back off for hours.
 *
 * Sent as the runner would send it now: an event the sink no longer receives (its subscription
 * changed) is a delivery with nothing to send, and leaves the parked list as applied.
 */
export class SinkRedelivery {
  private readonly parked: ParkedEventStore;
  private readonly states: SinkStateStore;
  private readonly owners: AccountOwners;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: EventStore,
    private readonly senders: SinkSenders,
    /** PUBLIC_URL: the base of the URLs in the CloudEvents, as the service delivers them. */
    private readonly baseUrl: string,
  ) {
    this.parked = new ParkedEventStore(db);
    this.states = new SinkStateStore(db);
    this.owners = new AccountOwners(db);
  }

  async retry(sinkSid: string, globalPosition?: number): Promise<RetryOutcome[]> {
    const name = sinkProjectionName(sinkSid);
    const parked = (await this.parked.list(name)).filter((p) => globalPosition === undefined || p.position.globalPosition === globalPosition);
    if (parked.length === 0) return [];
    const sink = await this.states.load(sinkSid);
    if (!sink) throw new SinkNotRetryableError(`sink ${sinkSid} does not exist`);
    // A sink under test or given up receives nothing until its owner validates it.
    if (sink.status !== 'active') throw new SinkNotRetryableError(`sink ${sinkSid} is ${sink.status}: it receives events again once a Test and Validate make it active`);
    const transport = this.senders.open(sink);
    const outcomes: RetryOutcome[] = [];
    try {
      for (const p of parked) {
        const base = { position: p.position, eventId: p.eventId, eventType: p.eventType };
        if (!(await this.parked.list(name)).some((q) => q.position.globalPosition === p.position.globalPosition)) {
          outcomes.push({ ...base, outcome: 'gone' });
          continue;
        }
        const [event] = await this.store.readEvents([p.eventId], this.db);
        if (!event) {
          const error = new Error(`event ${p.eventId} is not in the log`);
          await this.parked.failedAgain(this.db, name, p.position.globalPosition, error);
          outcomes.push({ ...base, outcome: 'failed', errorCode: 'Error', error: error.message });
          continue;
        }
        const prepared = await eventsForSink(sink, [event], this.owners, this.baseUrl);
        const outcome = prepared.length === 0 ? ({ kind: 'delivered' } as const) : await transport.send(prepared);
        if (outcome.kind === 'delivered') {
          if (prepared.length > 0) await this.states.delivered(sink.sid, prepared.length);
          await this.parked.remove(this.db, name, p.position.globalPosition);
          outcomes.push({ ...base, outcome: 'applied' });
          continue;
        }
        // Recorded as the runner records a drop: the delivery error code, the receiver's reason.
        const error = Object.assign(new Error(outcome.reason), { code: String(outcome.code) });
        await this.parked.failedAgain(this.db, name, p.position.globalPosition, error);
        outcomes.push({ ...base, outcome: 'failed', errorCode: error.code, error: outcome.reason });
      }
    } finally {
      await transport.close();
    }
    return outcomes;
  }
}
