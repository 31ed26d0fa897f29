import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import type { Caller } from '@accountable/accounts';
import type { Database } from '@accountable/database';
import { DB } from '@accountable/platform';
import type { SinkStatus } from './event-streams.events';
import type { SinkConfiguration, SinkType } from './sink-configuration';

export interface SinkRecord {
  sid: string;
  accountSid: string;
  ownerAccountSid: string;
  description: string;
  sinkType: SinkType;
  sinkConfiguration: SinkConfiguration;
  status: SinkStatus;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface SubscriptionRecord {
  sid: string;
  accountSid: string;
  ownerAccountSid: string;
  sinkSid: string;
  description: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface SubscribedEventRecord {
  accountSid: string;
  subscriptionSid: string;
  type: string;
  schemaVersion: number;
}

export interface RecordPage<T> {
  items: T[];
  hasNext: boolean;
}

/**
 * Reads sinks and subscriptions on the primary: they are written in the request that changes
 * them, and a client reads its own write next (twilio-node fetches after create).
 */
@Injectable()
export class EventStreamsReader {
  constructor(@Inject(DB) private readonly db: Kysely<Database>) {}

  /** `executor`: a transaction that has just written it (a command's answer). */
  async sink(sid: string, executor: Kysely<Database> = this.db): Promise<SinkRecord | null> {
    const row = await executor.selectFrom('event_sinks').select(SINK_COLUMNS).where('sid', '=', sid).executeTakeFirst();
    return row ? toSink(row) : null;
  }

  /** The caller's sinks, and for a main account its subaccounts' too (as `/v1/Events`), oldest first. */
  async sinks(caller: Caller, filters: { inUse?: boolean; status?: SinkStatus }, pageSize: number, page: number): Promise<RecordPage<SinkRecord>> {
    let query = this.db
      .selectFrom('event_sinks')
      .select(SINK_COLUMNS)
      .where(caller.isMain ? 'owner_account_sid' : 'account_sid', '=', caller.sid);
    if (filters.status !== undefined) query = query.where('status', '=', filters.status);
    if (filters.inUse !== undefined) {
      query = query.where(({ exists, not, selectFrom }) => {
        const used = exists(selectFrom('event_subscriptions').select('sid').whereRef('event_subscriptions.sink_sid', '=', 'event_sinks.sid'));
        return filters.inUse ? used : not(used);
      });
    }
    const rows = await query.orderBy('date_created').orderBy('sid').limit(pageSize + 1).offset(page * pageSize).execute();
    return { items: rows.slice(0, pageSize).map(toSink), hasNext: rows.length > pageSize };
  }

  async subscription(sid: string, executor: Kysely<Database> = this.db): Promise<SubscriptionRecord | null> {
    const row = await executor.selectFrom('event_subscriptions').select(SUBSCRIPTION_COLUMNS).where('sid', '=', sid).executeTakeFirst();
    return row ? toSubscription(row) : null;
  }

  async subscriptions(caller: Caller, filters: { sinkSid?: string }, pageSize: number, page: number): Promise<RecordPage<SubscriptionRecord>> {
    let query = this.db
      .selectFrom('event_subscriptions')
      .select(SUBSCRIPTION_COLUMNS)
      .where(caller.isMain ? 'owner_account_sid' : 'account_sid', '=', caller.sid);
    if (filters.sinkSid !== undefined) query = query.where('sink_sid', '=', filters.sinkSid);
    const rows = await query.orderBy('date_created').orderBy('sid').limit(pageSize + 1).offset(page * pageSize).execute();
    return { items: rows.slice(0, pageSize).map(toSubscription), hasNext: rows.length > pageSize };
  }

  async subscribedEvents(subscriptionSid: string, pageSize: number, page: number): Promise<RecordPage<SubscribedEventRecord>> {
    const rows = await this.db
      .selectFrom('event_subscribed_types')
      .select(['account_sid', 'subscription_sid', 'type', 'schema_version'])
      .where('subscription_sid', '=', subscriptionSid)
      .orderBy('type')
      .limit(pageSize + 1)
      .offset(page * pageSize)
      .execute();
    return { items: rows.slice(0, pageSize).map(toSubscribedEvent), hasNext: rows.length > pageSize };
  }

  async subscribedEvent(subscriptionSid: string, type: string, executor: Kysely<Database> = this.db): Promise<SubscribedEventRecord | null> {
    const row = await executor
      .selectFrom('event_subscribed_types')
      .select(['account_sid', 'subscription_sid', 'type', 'schema_version'])
      .where('subscription_sid', '=', subscriptionSid)
      .where('type', '=', type)
      .executeTakeFirst();
    return row ? toSubscribedEvent(row) : null;
  }
}

const SINK_COLUMNS = ['sid', 'account_sid', 'owner_account_sid', 'description', 'sink_type', 'sink_configuration', 'status', 'date_created', 'date_updated'] as const;
const SUBSCRIPTION_COLUMNS = ['sid', 'account_sid', 'owner_account_sid', 'sink_sid', 'description', 'date_created', 'date_updated'] as const;

type SinkRow = Pick<Database['event_sinks'], (typeof SINK_COLUMNS)[number]>;
type SubscriptionRow = Pick<Database['event_subscriptions'], (typeof SUBSCRIPTION_COLUMNS)[number]>;

function toSink(row: SinkRow): SinkRecord {
  return {
    sid: row.sid,
    accountSid: row.account_sid,
    ownerAccountSid: row.owner_account_sid,
    description: row.description,
    sinkType: row.sink_type,
    sinkConfiguration: row.sink_configuration as unknown as SinkConfiguration,
    status: row.status,
    dateCreated: row.date_created,
    dateUpdated: row.date_updated,
  };
}

function toSubscription(row: SubscriptionRow): SubscriptionRecord {
  return {
    sid: row.sid,
    accountSid: row.account_sid,
    ownerAccountSid: row.owner_account_sid,
    sinkSid: row.sink_sid,
    description: row.description,
    dateCreated: row.date_created,
    dateUpdated: row.date_updated,
  };
}

function toSubscribedEvent(row: { account_sid: string; subscription_sid: string; type: string; schema_version: number }): SubscribedEventRecord {
  return { accountSid: row.account_sid, subscriptionSid: row.subscription_sid, type: row.type, schemaVersion: row.schema_version };
}
