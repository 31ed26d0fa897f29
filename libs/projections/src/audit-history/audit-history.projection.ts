import { sql, type InsertObject, type Kysely, type Transaction } from 'kysely';
import type { Database } from '@accountable/database';
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
const INSERT_CHUNK = 1000;

export class AuditHistoryProjection implements Projection {
  readonly name = 'audit';
  /** For the blue-green rebuild (ProjectionAdmin): every statement names only these, unqualified. */
  readonly tables = ['audit_history'];

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
        .where('resource_sid', 'in', missing)
        .where('event_type', '=', AuditEventType.AccountCreated)
        .execute();
      for (const row of rows) owners.set(row.resource_sid, row.account_sid);
    }

    const rows = entries.map((entry): InsertObject<Database, 'audit_history'> => {
      const owner = owners.get(entry.resourceSid);
      if (!owner) throw new AuditOwnerUnknownError(`audit: no account.created row for ${entry.resourceSid} (event ${entry.eventId})`);
      return {
        sid: entry.sid,
        event_id: entry.eventId,
        global_position: entry.globalPosition,
        account_sid: owner,
        resource_sid: entry.resourceSid,
        resource_type: entry.resourceType,
        event_type: entry.eventType,
        event_data: JSON.stringify(entry.eventData),
        actor_type: entry.actorType,
        actor_sid: entry.actorSid,
        source: entry.source,
        source_ip_address: entry.sourceIpAddress,
        user_agent: entry.userAgent,
        request_id: entry.requestId,
        correlation_id: entry.correlationId,
        causation_id: entry.causationId,
        description: entry.description,
        // Same truncation as the account read model's dates, so an account's date_created and its
        // account.created event_date agree.
        event_date: sql<Date>`date_trunc('milliseconds', ${entry.eventDate}::timestamptz)`,
      };
    });
    // PostgreSQL takes at most 65,535 parameters per statement (18 a row here): a few statements
    // for a large batch (a rebuild reads thousands of events at a time).
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      await trx.insertInto('audit_history').values(rows.slice(i, i + INSERT_CHUNK)).onConflict((oc) => oc.column('sid').doNothing()).execute();
    }
  }

  async reset(trx: Transaction<Database>): Promise<void> {
    await trx.deleteFrom('audit_history').execute();
  }
}
