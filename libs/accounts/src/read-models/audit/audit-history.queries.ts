import { sql, type ExpressionBuilder, type Kysely, type Selectable } from 'kysely';
import type { AuditHistoryTable, Database } from '@accountable/database';
import { keysetWindow, type EventPageKey, type EventQuery, type MonitorEventView, type PageCursor } from '@accountable/twilio';

/** The authenticated account reading the history. */
export interface AuditViewer {
  sid: string;
  isMain: boolean;
}

export type AuditFilters = Pick<EventQuery, 'actorSid' | 'eventType' | 'resourceSid' | 'sourceIpAddress' | 'startDate' | 'endBefore'>;

export interface AuditListRequest extends AuditFilters {
  viewer: AuditViewer;
  limit: number;
  /** Rows after the key in list order (older), newest first. */
  after?: EventPageKey;
  /** Rows before the key in list order (newer), returned nearest first: oldest first. */
  before?: EventPageKey;
  offset?: number;
}

export interface AuditPage {
  /** Newest first. */
  items: MonitorEventView[];
  nextKey: EventPageKey | null;
  previousKey: EventPageKey | null;
}

type Row = Selectable<AuditHistoryTable>;
type Eb = ExpressionBuilder<Database, 'audit_history'>;

/**
 * A main account sees the rows of itself and its subaccounts (they all carry its sid as
 * `account_sid`); a subaccount only the rows about itself.
 */
function visibleTo(eb: Eb, viewer: AuditViewer) {
  return viewer.isMain ? eb('account_sid', '=', viewer.sid) : eb('resource_sid', '=', viewer.sid);
}

const COLUMNS = [
  'sid',
  'account_sid',
  'actor_sid',
  'actor_type',
  'description',
  'event_data',
  'event_date',
  'event_type',
  'resource_sid',
  'resource_type',
  'source',
  'source_ip_address',
] as const satisfies readonly (keyof Row)[];

function toView(row: Pick<Row, (typeof COLUMNS)[number]>): MonitorEventView {
  return {
    sid: row.sid,
    accountSid: row.account_sid,
    actorSid: row.actor_sid,
    actorType: row.actor_type,
    description: row.description,
    eventData: row.event_data,
    eventDate: row.event_date,
    eventType: row.event_type,
    resourceSid: row.resource_sid,
    resourceType: row.resource_type,
    source: row.source,
    sourceIpAddress: row.source_ip_address,
  };
}

/** Audit-history reads, one method one query. Every filter and the order are served by an index (0003). */
export class AuditHistoryQueries {
  constructor(private readonly db: Kysely<Database>) {}

  /** Null when the sid is unknown or not visible to the viewer: both are 404 to the caller. */
  async find(viewer: AuditViewer, sid: string): Promise<MonitorEventView | null> {
    const row = await this.db
      .selectFrom('audit_history')
      .select(COLUMNS)
      .where('sid', '=', sid)
      .where((eb) => visibleTo(eb, viewer))
      .executeTakeFirst();
    return row ? toView(row) : null;
  }

  async list(request: AuditListRequest): Promise<MonitorEventView[]> {
    let query = this.db
      .selectFrom('audit_history')
      .select(COLUMNS)
      .where((eb) => visibleTo(eb, request.viewer));
    if (request.actorSid !== undefined) query = query.where('actor_sid', '=', request.actorSid);
    if (request.eventType !== undefined) query = query.where('event_type', '=', request.eventType);
    if (request.resourceSid !== undefined) query = query.where('resource_sid', '=', request.resourceSid);
    if (request.sourceIpAddress !== undefined) query = query.where('source_ip_address', '=', request.sourceIpAddress);
    if (request.startDate) query = query.where('event_date', '>=', request.startDate);
    if (request.endBefore) query = query.where('event_date', '<', request.endBefore);
    if (request.before) {
      query = query
        .where(sql<boolean>`(event_date, sid) > (${request.before.eventDate}::timestamptz, ${request.before.sid})`)
        .orderBy('event_date', 'asc')
        .orderBy('sid', 'asc');
    } else {
      if (request.after) query = query.where(sql<boolean>`(event_date, sid) < (${request.after.eventDate}::timestamptz, ${request.after.sid})`);
      query = query.orderBy('event_date', 'desc').orderBy('sid', 'desc');
      if (request.offset) query = query.offset(request.offset);
    }
    const rows = await query.limit(request.limit).execute();
    return rows.map(toView);
  }
}

/** The operator's view (CLI): every account, any combination of filters, every column. */
export interface AuditSearch {
  resourceSid?: string;
  actorSid?: string;
  eventType?: string;
  from?: Date;
  /** Inclusive. */
  to?: Date;
  limit: number;
}

export async function searchAudit(db: Kysely<Database>, search: AuditSearch): Promise<Row[]> {
  let query = db.selectFrom('audit_history').selectAll();
  if (search.resourceSid !== undefined) query = query.where('resource_sid', '=', search.resourceSid);
  if (search.actorSid !== undefined) query = query.where('actor_sid', '=', search.actorSid);
  if (search.eventType !== undefined) query = query.where('event_type', '=', search.eventType);
  if (search.from) query = query.where('event_date', '>=', search.from);
  if (search.to) query = query.where('event_date', '<=', search.to);
  return query.orderBy('event_date', 'desc').orderBy('sid', 'desc').limit(search.limit).execute();
}

/**
 * One keyset page, newest first. Without a cursor, `Page` N starts at N × pageSize (an offset,
 * as the Accounts list does); with one, the cursor alone decides.
 */
export async function listAuditPage(
  queries: AuditHistoryQueries,
  viewer: AuditViewer,
  filters: AuditFilters,
  pageSize: number,
  cursor: PageCursor<EventPageKey> | null,
  page = 0,
): Promise<AuditPage> {
  const rows = await queries.list({
    viewer,
    ...filters,
    // One row more than the page tells whether another page follows.
    limit: pageSize + 1,
    after: cursor?.direction === 'after' ? cursor.key : undefined,
    before: cursor?.direction === 'before' ? cursor.key : undefined,
    offset: cursor ? undefined : page * pageSize,
  });
  const keyOf = (v: MonitorEventView): EventPageKey => ({ eventDate: v.eventDate, sid: v.sid });
  const window = keysetWindow({ rows, pageSize, direction: cursor?.direction ?? null, keyOf });
  // Offset pages past the first have a page before them even without a cursor.
  const previousKey = window.previousKey ?? (!cursor && page > 0 && window.items[0] ? keyOf(window.items[0]) : null);
  return { items: window.items, nextKey: window.nextKey, previousKey };
}
