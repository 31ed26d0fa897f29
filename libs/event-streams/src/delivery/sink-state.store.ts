import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { ParkedEventStore, type FeedPosition, type RecordedEvent } from '@accountable/event-store';
import type { DeliveryErrorCode } from '../egress';

/** What delivery needs of a sink and its subscription, read afresh for every batch. */
export interface DeliverySink {
  sid: string;
  /** The account that created it: whose events it receives, and whose auth token signs them. */
  accountSid: string;
  /** Receives its subaccounts' events too (as /v1/Events shows a main account them). */
  isMain: boolean;
  sinkType: 'webhook' | 'nats';
  configuration: Record<string, unknown>;
  destinationPasswordSealed: string | null;
  status: 'initialized' | 'validating' | 'active' | 'failed';
  /** Null without a subscription: nothing is delivered. */
  subscription: { sid: string; from: FeedPosition; types: ReadonlySet<string> } | null;
}

export interface DeliveryFailure {
  code: DeliveryErrorCode;
  reason: string;
}

/** A sink's delivery as `projections status` and /metrics show it. */
export interface SinkDeliveryStatus {
  sid: string;
  /** Its projection: checkpoint, lag and parked events are read under this name. */
  name: string;
  status: DeliverySink['status'];
  delivered: number;
  dropped: number;
  /** Failed attempts since the last success (the batch being retried). */
  failingAttempts: number;
  lastFailureCode: number | null;
  lastFailureAt: Date | null;
}

/** A sink's delivery projection: its checkpoint's and parked events' name. */
export const sinkProjectionName = (sinkSid: string): string => `sink:${sinkSid}`;

/** Kept to this: it is for a person reading `GET /v1/Sinks` or the metrics, and a receiver chooses its text. */
const MAX_MESSAGE = 500;
const bounded = (text: string) => (text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text).replace(/\u0000/g, '');

/**
 * The delivery state of sinks (event_sinks' delivery columns, migration 0016): written directly,
 * not as events — operational state, as a checkpoint is.
 */
export class SinkStateStore {
  private readonly parked: ParkedEventStore;

  constructor(private readonly db: Kysely<Database>) {
    this.parked = new ParkedEventStore(db);
  }

  async load(sid: string): Promise<DeliverySink | null> {
    const row = await this.db
      .selectFrom('event_sinks as s')
      .leftJoin('event_subscriptions as sub', 'sub.sink_sid', 's.sid')
      .select([
        's.sid',
        's.account_sid',
        's.owner_account_sid',
        's.sink_type',
        's.sink_configuration',
        's.destination_password_sealed',
        's.status',
        'sub.sid as subscription_sid',
        'sub.created_transaction_id',
        'sub.created_position',
        (eb) =>
          eb
            .selectFrom('event_subscribed_types as t')
            .select(sql<string[]>`coalesce(array_agg(t.type), '{}')`.as('types'))
            .whereRef('t.subscription_sid', '=', 'sub.sid')
            .as('types'),
      ])
      .where('s.sid', '=', sid)
      .executeTakeFirst();
    if (!row) return null;
    return {
      sid: row.sid,
      accountSid: row.account_sid,
      isMain: row.account_sid === row.owner_account_sid,
      sinkType: row.sink_type,
      configuration: row.sink_configuration,
      destinationPasswordSealed: row.destination_password_sealed,
      status: row.status,
      subscription:
        row.subscription_sid && row.created_transaction_id !== null && row.created_position !== null
          ? {
              sid: row.subscription_sid,
              from: { transactionId: String(row.created_transaction_id), globalPosition: Number(row.created_position) },
              types: new Set(row.types ?? []),
            }
          : null,
    };
  }

  /**
   * Sinks to deliver to: subscribed and `active` (a `validating` sink holds at its checkpoint until
   * Validate, a `failed` one until a Test and Validate); where each one's delivery starts.
   */
  async runnable(): Promise<{ sid: string; from: FeedPosition }[]> {
    const rows = await this.db
      .selectFrom('event_sinks as s')
      .innerJoin('event_subscriptions as sub', 'sub.sink_sid', 's.sid')
      .select(['s.sid', 's.created_transaction_id', 's.created_position'])
      .where('s.status', '=', 'active')
      .orderBy('s.sid')
      .execute();
    return rows.map((row) => ({ sid: row.sid, from: { transactionId: String(row.created_transaction_id), globalPosition: Number(row.created_position) } }));
  }

  /** Every sink delivery has started for (it has a checkpoint), in sid order. */
  async deliveryStatus(): Promise<SinkDeliveryStatus[]> {
    const rows = await this.db
      .selectFrom('event_sinks as s')
      .innerJoin('projection_checkpoints as c', (join) => join.on(sql<boolean>`c.name = 'sink:' || s.sid`))
      .select(['s.sid', 'c.name', 's.status', 's.delivered_count', 's.dropped_count', 's.failure_count', 's.last_failure_code', 's.last_failure_at'])
      .orderBy('s.sid')
      .execute();
    return rows.map((r) => ({
      sid: r.sid,
      name: r.name,
      status: r.status,
      delivered: Number(r.delivered_count),
      dropped: Number(r.dropped_count),
      failingAttempts: r.failure_count,
      lastFailureCode: r.last_failure_code,
      lastFailureAt: r.last_failure_at,
    }));
  }

  /** The checkpoint of a sink's delivery, at its creation unless it exists (the runner then reads it). */
  async ensureCheckpoint(sid: string, from: FeedPosition): Promise<void> {
    await this.db
      .insertInto('projection_checkpoints')
      .values({ name: sinkProjectionName(sid), transaction_id: from.transactionId, global_position: from.globalPosition })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  /** A deleted sink: its checkpoint and parked deliveries go with it. */
  async forget(sid: string): Promise<void> {
    const name = sinkProjectionName(sid);
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('projection_checkpoints').where('name', '=', name).execute();
      await trx.deleteFrom('projection_parked_events').where('projection', '=', name).execute();
    });
  }

  async delivered(sid: string, events: number): Promise<void> {
    await this.db
      .updateTable('event_sinks')
      .set({
        delivered_count: sql<number>`delivered_count + ${events}`,
        last_delivered_at: sql<Date>`now()`,
        failure_count: 0,
        first_failure_at: null,
      })
      .where('sid', '=', sid)
      .execute();
  }

  /** A failed attempt that will be retried; returns when the current run of failures began. */
  async failedAttempt(sid: string, failure: DeliveryFailure): Promise<Date> {
    const row = await this.db
      .updateTable('event_sinks')
      .set({
        failure_count: sql<number>`failure_count + 1`,
        first_failure_at: sql<Date>`coalesce(first_failure_at, now())`,
        last_failure_at: sql<Date>`now()`,
        last_failure_code: failure.code,
        last_failure_message: bounded(failure.reason),
      })
      .where('sid', '=', sid)
      .returning(['first_failure_at'])
      .executeTakeFirst();
    return row?.first_failure_at ?? new Date();
  }

  /**
   * Events the sink refused (a 4xx, a refused destination): not retried, recorded — counted on
   * the sink and each parked under the sink's projection (`cli projections parked`).
   */
  async dropped(sid: string, events: readonly RecordedEvent[], failure: DeliveryFailure): Promise<void> {
    const error = Object.assign(new Error(bounded(failure.reason)), { code: String(failure.code) });
    await this.db.transaction().execute(async (trx) => {
      for (const event of events) await this.parked.park(trx, sinkProjectionName(sid), { event, error });
      await trx
        .updateTable('event_sinks')
        .set({
          dropped_count: sql<number>`dropped_count + ${events.length}`,
          last_failure_at: sql<Date>`now()`,
          last_failure_code: failure.code,
          last_failure_message: bounded(failure.reason),
          failure_count: 0,
          first_failure_at: null,
        })
        .where('sid', '=', sid)
        .execute();
    });
  }

  /**
   * The retry window ran out: the sink stops (its checkpoint kept) until a Test/Validate makes it
   * active again. Only from `active`: a Test started meanwhile is the owner's move, and stands.
   */
  async markFailed(sid: string): Promise<void> {
    await this.db
      .updateTable('event_sinks')
      .set({ status: 'failed', date_updated: sql<Date>`now()` })
      .where('sid', '=', sid)
      .where('status', '=', 'active')
      .execute();
  }
}
