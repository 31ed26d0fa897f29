import {
  ACCOUNT_STREAM_PREFIX,
  AuditEventType,
  SCHEMA_VERSION,
  accountOfRow,
  auditEntryOf,
  evolve,
  evolveAccountRow,
  fold,
  rowOfAccount,
  type AccountEvent,
  type AccountEventType,
  type AccountState,
  type ApiKeyRowChange,
} from '@accountable/accounts';
import type { RecordedEvent } from '@accountable/event-store';
import { eventTypeDefinition, streamEventTypeOf } from '@accountable/event-streams';
import { toMonitorEvent } from '@accountable/twilio';
import { ACCOUNT_SQL_LOAD } from '../../libs/accounts/src/read-models/account/account-read-model.projection';
import { AUDIT_SQL_LOAD } from '../../libs/accounts/src/read-models/audit/audit-history.projection';
import { EVERY_EVENT_TYPE, MAIN, sampleOf } from '../support/account-event-samples';

/**
 * Every account event type, as the domain enumerates it, against every path that gives it an
 * effect: the domain's evolve; the read model's row and api_keys (evolveAccountRow, which the
 * command's inline write, the projection and verify share); the audit entry, which is the Monitor
 * event; the Event Streams catalogue; and the rebuilds' SQL loads, which load it or decline it by
 * name. Most of these are Records over the type or switches without a default, so a new type
 * first fails to compile; this walks them at run time too (and ts-jest reports the compile errors
 * here). The SQL loads are held to the definition in
 * test/projections/sql-load-every-event-type.int.spec.ts.
 */
const AT = new Date('2024-05-06T07:08:09.123Z');

function recorded(sid: string, version: number, event: AccountEvent): RecordedEvent {
  return {
    globalPosition: 7,
    transactionId: '900',
    streamId: `${ACCOUNT_STREAM_PREFIX}${sid}`,
    streamVersion: version,
    eventId: '0b5f3c1e-8a4d-4c2b-9e7f-1234567890ab',
    type: event.type,
    schemaVersion: SCHEMA_VERSION[event.type],
    data: event.data as Record<string, unknown>,
    metadata: { actorType: 'operator', source: 'cli' },
    recordedAt: AT,
  };
}

/** The history before the sample, folded as stored (with times and versions). */
const stateBefore = (before: readonly AccountEvent[]): AccountState =>
  fold(before.map((event, i) => ({ ...event, recordedAt: AT, streamVersion: i + 1 })));

/** api_keys (sid → friendly name) after one of apiKeyRowChange's writes. */
function keysAfter(keys: Readonly<Record<string, string | null>>, change: ApiKeyRowChange | null): Record<string, string | null> {
  if (!change) return { ...keys };
  const sid = change.match?.sid ?? (change.row!.sid as string);
  if (change.row === null) {
    const { [sid]: _gone, ...rest } = keys;
    return rest;
  }
  return { ...keys, [sid]: 'friendly_name' in change.row ? (change.row.friendly_name ?? null) : (keys[sid] ?? null) };
}

describe.each(EVERY_EVENT_TYPE)('account event type %s', (type: AccountEventType) => {
  it('the domain evolves by it', () => {
    const { before, event, version } = sampleOf(type);
    expect(evolve(stateBefore(before), event, AT)?.version).toBe(version);
  });

  it("the read model's definition (evolveAccountRow) gives its row, and api_keys as the domain keeps them", () => {
    const { before, event, sid, version } = sampleOf(type);
    const state = stateBefore(before);
    const step = evolveAccountRow(state, { ...event, recordedAt: AT, streamVersion: version });
    expect(step.row).toMatchObject({ sid, version });
    // The row is the state, field for field: read back, it is the same row.
    expect(rowOfAccount(accountOfRow(step.row, step.state.apiKeys))).toEqual(step.row);
    expect({ type, apiKeys: keysAfter(state?.apiKeys ?? {}, step.apiKey) }).toEqual({ type, apiKeys: step.state.apiKeys });
  });

  it('the audit (Monitor) gives it an entry, or knows it has none; the Event Streams catalogue delivers exactly those', () => {
    const { event, sid, version } = sampleOf(type);
    const entry = auditEntryOf(recorded(sid, version, event));
    const audit = (AUDIT_SQL_LOAD as Partial<Record<string, string>>)[type];
    expect({ type, audit }).toEqual({ type, audit: expect.stringMatching(/^(loaded|no entry|declined)$/) });
    expect({ type, entry: entry === null }).toEqual({ type, entry: audit === 'no entry' });
    const streamType = streamEventTypeOf(event);
    expect({ type, delivered: streamType !== null }).toEqual({ type, delivered: entry !== null });
    if (!entry || !streamType) return;
    expect(Object.values(AuditEventType)).toContain(entry.eventType);
    expect(toMonitorEvent({ ...entry, accountSid: MAIN }, 'https://api.example.com')).toMatchObject({ event_type: entry.eventType, resource_sid: sid });
    expect(eventTypeDefinition(streamType)).toBeDefined();
  });

  it("the account read model's SQL load loads it or declines it by name", () => {
    const load = ACCOUNT_SQL_LOAD[type];
    expect({ type, load: Array.isArray(load) || load === 'declined' }).toEqual({ type, load: true });
  });
});
