import { sql, type Kysely, type Transaction } from 'kysely';
import type { AuditHistoryTable, Database } from '@accountable/database';
import type { RecordedEvent } from '@accountable/event-store';
import type { Projection } from '../runner/projection';
import { AuditEventType, auditEntryOf, type AuditEntry } from './audit-entry';

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

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('audit_history').execute();
  }
}
