import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';

type RawSql = RawBuilder<unknown>;
import type { AuditHistoryTable, Database } from '@accountable/database';
import { ACCOUNT_STREAM_PREFIX, AccountEventType, SCHEMA_VERSION } from '../../domain';
import { MAX_ADDRESS_LENGTH, ipAddressOrNull, type FeedPosition, type Projection, type RecordedEvent } from '@accountable/event-store';
import { AuditEventType, REASON_TEXT, auditEntryOf, type AuditEntry } from './audit-entry';

const T = AccountEventType;
/**
 * What the rebuild's SQL load (loadRange) does with each event type on an account stream: loads
 * its entry, knows it has none (auditEntryOf's null), or declines it. A Record over every type,
 * so a new one does not compile until it is given one; a range holding a declined type, or any
 * type this version does not know, is declined whole and takes the batch path (`apply`), so no
 * event is silently left out of a rebuild. test/projections/sql-load-every-event-type.int.spec.ts
 * holds the loaded types to auditEntryOf, and test/architecture/every-account-event-type.spec.ts
 * the 'no entry' ones.
 */
export const AUDIT_SQL_LOAD = {
  MainAccountCreated: 'loaded',
  SubaccountCreated: 'loaded',
  AccountRenamed: 'loaded',
  AccountStatusChanged: 'loaded',
  AccountUpgraded: 'loaded',
  SubaccountAdded: 'no entry',
  SubaccountReleased: 'no entry',
  // The credential events: rare, and their entries are auditEntryOf's alone.
  ApiKeyCreated: 'declined',
  ApiKeyRenamed: 'declined',
  ApiKeyDeleted: 'declined',
  SecondaryAuthTokenCreated: 'declined',
  SecondaryAuthTokenDeleted: 'declined',
  AuthTokenPromoted: 'declined',
} as const satisfies Record<AccountEventType, 'loaded' | 'no entry' | 'declined'>;
const typesThat = (what: 'loaded' | 'no entry') =>
  (Object.keys(AUDIT_SQL_LOAD) as AccountEventType[]).filter((type) => AUDIT_SQL_LOAD[type] === what);
const AUDITED = typesThat('loaded');
const NOT_AUDITED = typesThat('no entry');
/** The SQL load writes REASON_TEXT's suffix for these; a status change with any other reason is declined. */
const KNOWN_REASONS = Object.keys(REASON_TEXT);
const METADATA = {
  actor_type: 'actorType',
  actor_sid: 'actorSid',
  source: 'source',
  source_ip_address: 'sourceIp',
  user_agent: 'userAgent',
  request_id: 'requestId',
  correlation_id: 'correlationId',
  causation_id: 'causationId',
} as const;

export class AuditOwnerUnknownError extends Error {
  override readonly name = 'AuditOwnerUnknownError';
}

/**
 * Feeds `audit_history` from the global feed: one row per audited event.
 *
 * Depends on no other read model. An update's owner (the main account, for visibility) comes
 * from the resource's own `account.created` row — earlier in this batch or already stored — which
 * always precedes it: the feed delivers a stream in version order and creation is version 1.
 * Per batch: at most one lookup and one insert. ON CONFLICT DO NOTHING on the sid keeps a
 * redelivered event from writing twice, on top of the runner's checkpoint.
 */
export class AuditHistoryProjection implements Projection {
  readonly name = 'audit';
  /** For the blue-green rebuild (ProjectionAdmin): every statement names only these, unqualified. */
  readonly tables = ['audit_history'];
  /** The owner lookup's index, which a rebuild therefore keeps while it loads. */
  readonly applyIndexes = ['audit_history_resource_idx'];

  async apply(trx: Kysely<Database>, events: readonly RecordedEvent[]): Promise<void> {
    const entries = events.map(auditEntryOf).filter((entry): entry is AuditEntry => entry !== null);
    if (entries.length === 0) return;

    const owners = new Map<string, string>();
    for (const entry of entries) if (entry.ownerAccountSid) owners.set(entry.resourceSid, entry.ownerAccountSid);
    const missing = [...new Set(entries.filter((e) => !owners.has(e.resourceSid)).map((e) => e.resourceSid))];
    if (missing.length > 0) {
      const rows = await trx
        .selectFrom('audit_history')
        .select(['resource_sid', 'account_sid'])
        .where((eb) => eb('resource_sid', '=', eb.fn.any(eb.val(missing))))
        .where('event_type', '=', AuditEventType.AccountCreated)
        .execute();
      for (const row of rows) owners.set(row.resource_sid, row.account_sid);
    }

    const columns = {
      sid: [] as string[],
      event_id: [] as string[],
      global_position: [] as number[],
      account_sid: [] as string[],
      resource_sid: [] as string[],
      resource_type: [] as string[],
      event_type: [] as string[],
      event_data: [] as string[],
      actor_type: [] as string[],
      actor_sid: [] as (string | null)[],
      source: [] as string[],
      source_ip_address: [] as (string | null)[],
      user_agent: [] as (string | null)[],
      request_id: [] as (string | null)[],
      correlation_id: [] as (string | null)[],
      causation_id: [] as (string | null)[],
      description: [] as string[],
      event_date: [] as Date[],
    } satisfies Record<keyof AuditHistoryTable, unknown[]>;
    for (const entry of entries) {
      const owner = owners.get(entry.resourceSid);
      if (!owner) throw new AuditOwnerUnknownError(`audit: no account.created row for ${entry.resourceSid} (event ${entry.eventId})`);
      columns.sid.push(entry.sid);
      columns.event_id.push(entry.eventId);
      columns.global_position.push(entry.globalPosition);
      columns.account_sid.push(owner);
      columns.resource_sid.push(entry.resourceSid);
      columns.resource_type.push(entry.resourceType);
      columns.event_type.push(entry.eventType);
      columns.event_data.push(JSON.stringify(entry.eventData));
      columns.actor_type.push(entry.actorType);
      columns.actor_sid.push(entry.actorSid);
      columns.source.push(entry.source);
      columns.source_ip_address.push(entry.sourceIpAddress);
      columns.user_agent.push(entry.userAgent);
      columns.request_id.push(entry.requestId);
      columns.correlation_id.push(entry.correlationId);
      columns.causation_id.push(entry.causationId);
      columns.description.push(entry.description);
      columns.event_date.push(entry.eventDate);
    }
    // One array per column: 18 parameters whatever the batch size, where a multi-row VALUES takes
    // 18 a row and meets PostgreSQL's limit of 65,535. event_data goes as text, cast row by row:
    // a jsonb[] parameter took four times as long to read. event_date: same truncation as the
    // account read model's dates, so an account's date_created and its account.created
    // event_date agree.
    await trx
      .insertInto('audit_history')
      .columns(Object.keys(columns) as (keyof AuditHistoryTable)[])
      .expression(
        sql`SELECT sid, event_id, global_position, account_sid, resource_sid, resource_type, event_type, event_data::jsonb, actor_type, actor_sid,
                   source, source_ip_address, user_agent, request_id, correlation_id, causation_id, description,
                   date_trunc('milliseconds', event_date)
              FROM unnest(${columns.sid}::text[], ${columns.event_id}::uuid[], ${columns.global_position}::bigint[], ${columns.account_sid}::text[],
                          ${columns.resource_sid}::text[], ${columns.resource_type}::text[], ${columns.event_type}::text[], ${columns.event_data}::text[],
                          ${columns.actor_type}::text[], ${columns.actor_sid}::text[], ${columns.source}::text[], ${columns.source_ip_address}::text[],
                          ${columns.user_agent}::text[], ${columns.request_id}::text[], ${columns.correlation_id}::text[], ${columns.causation_id}::text[],
                          ${columns.description}::text[], ${columns.event_date}::timestamptz[])
                AS r(sid, event_id, global_position, account_sid, resource_sid, resource_type, event_type, event_data, actor_type, actor_sid,
                     source, source_ip_address, user_agent, request_id, correlation_id, causation_id, description, event_date)`,
      )
      .onConflict((oc) => oc.column('sid').doNothing())
      .execute();
  }

  /**
   * A rebuild's load of the feed range (after, until] into `schema`'s audit_history, in SQL: two
   * INSERT ... SELECT from `events` (the creations, then the updates with their owner joined from
   * those), no rows through this process. `auditEntryOf` stays the definition: this says the same
   * for events of the current schema version whose fields have the shapes the contract gives
   * them, which it checks first; for any other range it returns null and the caller applies the
   * range through `apply`. The shadow table is private to the rebuild and the range is delivered
   * once, so no ON CONFLICT. test/projections/audit-rebuild-sql.int.spec.ts holds the two equal.
   * Returns the number of feed events in the range.
   */
  async loadRange(db: Kysely<Database>, schema: string, after: FeedPosition, until: FeedPosition): Promise<number | null> {
    const prefix = ACCOUNT_STREAM_PREFIX;
    const range = sql`(e.transaction_id, e.global_position) > (${after.transactionId}::xid8, ${after.globalPosition}::bigint)
          AND (e.transaction_id, e.global_position) <= (${until.transactionId}::xid8, ${until.globalPosition}::bigint)`;
    const onAccountStream = sql`left(e.stream_id, ${prefix.length}) = ${prefix}`;
    const audited = sql`${onAccountStream} AND e.type = ANY(${[...AUDITED]}::text[])`;
    const isString = (path: string) => sql`jsonb_typeof(e.data -> ${path}) = 'string'`;
    const ip = sql`e.metadata -> ${METADATA.source_ip_address}`;
    const ipText = sql`e.metadata ->> ${METADATA.source_ip_address}`;
    const { rows } = await sql<{ events: string; faithful: boolean; addresses: string[] | null }>`
      SELECT count(*) AS events,
             -- Each distinct address short enough to be one, judged below by the rule itself (ipAddressOrNull).
             array_agg(DISTINCT ${ipText}) FILTER (
               WHERE ${audited} AND jsonb_typeof(${ip}) = 'string' AND length(${ipText}) <= ${MAX_ADDRESS_LENGTH}
             ) AS addresses,
             coalesce(bool_and(
               NOT (${onAccountStream}) OR e.type = ANY(${NOT_AUDITED}::text[]) OR coalesce(
                 e.schema_version = CASE e.type ${sql.join(
                   AUDITED.map((type) => sql`WHEN ${type} THEN ${SCHEMA_VERSION[type]}::int`),
                   sql` `,
                 )} END
                 AND jsonb_typeof(e.metadata) = 'object'
                 AND CASE e.type
                       WHEN ${T.MainAccountCreated} THEN ${isString('friendlyName')} AND ${isString('type')}
                       WHEN ${T.SubaccountCreated} THEN ${isString('friendlyName')} AND ${isString('type')} AND e.data ->> 'ownerAccountSid' <> ''
                         AND ${isString('ownerAccountSid')}
                       WHEN ${T.AccountRenamed} THEN ${isString('previous')} AND ${isString('friendlyName')}
                       WHEN ${T.AccountStatusChanged} THEN ${isString('previous')} AND ${isString('status')}
                         AND e.data ->> 'reason' = ANY(${[...KNOWN_REASONS]}::text[])
                       WHEN ${T.AccountUpgraded} THEN ${isString('previous')} AND ${isString('type')}
                     END, false)), true) AS faithful
        FROM events e
       WHERE ${range}`.execute(db);
    if (!rows[0].faithful) return null;
    const addresses = (rows[0].addresses ?? []).filter((address) => ipAddressOrNull(address) !== null);

    const target = sql.id(schema, 'audit_history');
    const change = (previous: RawSql, updated: RawSql) => sql`jsonb_build_object('previous', ${previous}, 'updated', ${updated})`;
    const text = (key: string) => sql`CASE WHEN jsonb_typeof(e.metadata -> ${key}) = 'string' THEN nullif(e.metadata ->> ${key}, '') END`;
    const select = (owner: RawSql, from: RawSql, types: readonly string[]) => sql`
      INSERT INTO ${target} (sid, event_id, global_position, account_sid, resource_sid, resource_type, event_type, event_data, actor_type, actor_sid,
                             source, source_ip_address, user_agent, request_id, correlation_id, causation_id, description, event_date)
      SELECT 'AE' || replace(e.event_id::text, '-', ''), e.event_id, e.global_position, ${owner}, substr(e.stream_id, ${prefix.length + 1}), 'account',
             CASE WHEN e.type IN (${T.MainAccountCreated}, ${T.SubaccountCreated}) THEN ${AuditEventType.AccountCreated} ELSE ${AuditEventType.AccountUpdated} END,
             CASE e.type
               WHEN ${T.AccountRenamed} THEN jsonb_build_object('friendly_name', ${change(sql`e.data -> 'previous'`, sql`e.data -> 'friendlyName'`)})
               WHEN ${T.AccountStatusChanged} THEN jsonb_build_object('status', ${change(sql`e.data -> 'previous'`, sql`e.data -> 'status'`)})
               WHEN ${T.AccountUpgraded} THEN jsonb_build_object('type', ${change(sql`e.data -> 'previous'`, sql`e.data -> 'type'`)})
               ELSE jsonb_build_object('friendly_name', ${change(sql`'null'::jsonb`, sql`e.data -> 'friendlyName'`)},
                                       'status', ${change(sql`'null'::jsonb`, sql`'"active"'::jsonb`)},
                                       'type', ${change(sql`'null'::jsonb`, sql`e.data -> 'type'`)})
             END,
             coalesce(${text(METADATA.actor_type)}, 'system'), ${text(METADATA.actor_sid)}, coalesce(${text(METADATA.source)}, 'system'),
             CASE WHEN jsonb_typeof(${ip}) = 'string' AND ${ipText} = ANY(${addresses}::text[]) THEN ${ipText} END,
             ${text(METADATA.user_agent)}, ${text(METADATA.request_id)},
             ${text(METADATA.correlation_id)}, ${text(METADATA.causation_id)},
             CASE e.type
               WHEN ${T.MainAccountCreated} THEN 'Main account created'
               WHEN ${T.SubaccountCreated} THEN 'Subaccount created'
               WHEN ${T.AccountRenamed} THEN 'Friendly name changed'
               WHEN ${T.AccountStatusChanged} THEN 'Status changed from ' || (e.data ->> 'previous') || ' to ' || (e.data ->> 'status')
                 || CASE e.data ->> 'reason' ${sql.join(
                   Object.entries(REASON_TEXT).map(([reason, suffix]) => sql`WHEN ${reason} THEN ${suffix}::text`),
                   sql` `,
                 )} ELSE '' END
               WHEN ${T.AccountUpgraded} THEN 'Type changed from ' || (e.data ->> 'previous') || ' to ' || (e.data ->> 'type')
             END,
             date_trunc('milliseconds', e.recorded_at)
        ${from}
       WHERE ${range} AND left(e.stream_id, ${prefix.length}) = ${prefix} AND e.type = ANY(${types}::text[])`;
    await select(
      sql`CASE e.type WHEN ${T.MainAccountCreated} THEN substr(e.stream_id, ${prefix.length + 1}) ELSE e.data ->> 'ownerAccountSid' END`,
      sql`FROM events e`,
      [T.MainAccountCreated, T.SubaccountCreated],
    ).execute(db);
    // An update without its creation leaves account_sid null, which the NOT NULL refuses (the
    // batch path's AuditOwnerUnknownError).
    await select(
      sql`c.account_sid`,
      sql`FROM events e LEFT JOIN ${target} c ON c.resource_sid = substr(e.stream_id, ${prefix.length + 1}) AND c.event_type = ${AuditEventType.AccountCreated}`,
      [T.AccountRenamed, T.AccountStatusChanged, T.AccountUpgraded],
    ).execute(db);
    return Number(rows[0].events);
  }

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('audit_history').execute();
  }
}
