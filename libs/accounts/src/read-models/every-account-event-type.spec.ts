import { sql } from 'kysely';
import {
  ACCOUNT_STREAM_PREFIX,
  AccountEventType,
  SCHEMA_VERSION,
  evolve,
  fold,
  type AccountEvent,
  type AccountState,
} from '../domain';
import type { RecordedEvent } from '@accountable/event-store';
import {
  BATCH_LEAVES_TO_APPLY,
  evolveRow,
  rowUpdateOf,
  SQL_DECLINED as SQL_LOAD_DECLINED,
  SQL_LOADED_FIELDS,
  type Row,
} from './account/account-read-model.projection';
import { auditEntryOf } from './audit/audit-entry';
import { SQL_AUDITED, SQL_DECLINED as SQL_AUDIT_DECLINED, SQL_NOT_AUDITED } from './audit/audit-history.projection';

/**
 * Every account event type against every path that gives it an effect: the domain's evolve, the
 * read model's row (the batch fold, and the inline writer's columns), the audit entry, and the
 * rebuilds' SQL loads, which decline what they do not list. A new event type fails here until
 * each path has it.
 */
const MAIN = `AC${'1'.repeat(32)}`;
const SUB = `AC${'2'.repeat(32)}`;
const AT = new Date('2024-05-06T07:08:09.123Z');

const created: AccountEvent = { type: AccountEventType.MainAccountCreated, data: { sid: MAIN, friendlyName: 'Main', type: 'Trial', authToken: 'sealed' } };

const KEY = `SK${'3'.repeat(32)}`;
const keyCreated: AccountEvent = { type: AccountEventType.ApiKeyCreated, data: { keySid: KEY, friendlyName: 'k', secretVerifier: 'v1.salt.hash' } };

const secondaryCreated: AccountEvent = { type: AccountEventType.SecondaryAuthTokenCreated, data: { authToken: 'sealed 2', replaced: false } };

/** One event of each type, and the history it follows on its stream. */
const SAMPLES: Record<AccountEventType, { before: AccountEvent[]; event: AccountEvent }> = {
  MainAccountCreated: { before: [], event: created },
  SubaccountCreated: {
    before: [],
    event: { type: AccountEventType.SubaccountCreated, data: { sid: SUB, ownerAccountSid: MAIN, friendlyName: 'Sub', type: 'Full', authToken: 'sealed' } },
  },
  SubaccountAdded: { before: [created], event: { type: AccountEventType.SubaccountAdded, data: { subaccountSid: SUB } } },
  SubaccountReleased: {
    before: [created, { type: AccountEventType.SubaccountAdded, data: { subaccountSid: SUB } }],
    event: { type: AccountEventType.SubaccountReleased, data: { subaccountSid: SUB } },
  },
  AccountRenamed: { before: [created], event: { type: AccountEventType.AccountRenamed, data: { previous: 'Main', friendlyName: 'Renamed' } } },
  AccountStatusChanged: {
    before: [created],
    event: { type: AccountEventType.AccountStatusChanged, data: { previous: 'active', status: 'suspended', reason: 'operator' } },
  },
  AccountUpgraded: { before: [created], event: { type: AccountEventType.AccountUpgraded, data: { previous: 'Trial', type: 'Full' } } },
  ApiKeyCreated: { before: [created], event: keyCreated },
  ApiKeyRenamed: {
    before: [created, keyCreated],
    event: { type: AccountEventType.ApiKeyRenamed, data: { keySid: KEY, previous: 'k', friendlyName: 'renamed' } },
  },
  ApiKeyDeleted: { before: [created, keyCreated], event: { type: AccountEventType.ApiKeyDeleted, data: { keySid: KEY, friendlyName: 'k' } } },
  SecondaryAuthTokenCreated: { before: [created], event: secondaryCreated },
  SecondaryAuthTokenDeleted: { before: [created, secondaryCreated], event: { type: AccountEventType.SecondaryAuthTokenDeleted, data: {} } },
  AuthTokenPromoted: { before: [created, secondaryCreated], event: { type: AccountEventType.AuthTokenPromoted, data: {} } },
};

const EVERY_TYPE = Object.values(AccountEventType);
const isCreation = (type: string) => type === AccountEventType.MainAccountCreated || type === AccountEventType.SubaccountCreated;

function sampleOf(type: AccountEventType) {
  const sample = SAMPLES[type];
  if (!sample) throw new Error(`no sample event of type ${type}: add one to SAMPLES`);
  const sid = 'sid' in sample.event.data ? sample.event.data.sid : MAIN;
  return { ...sample, sid, version: sample.before.length + 1 };
}

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

/** The read-model row the batch fold makes of a history, from no row. */
function rowAfter(sid: string, events: readonly AccountEvent[]): Row | null | undefined {
  let row: Row | null | undefined = null;
  events.forEach((event, i) => {
    if (row !== undefined) row = evolveRow(row, sid, recorded(sid, i + 1, event));
  });
  return row;
}

describe.each(EVERY_TYPE)('account event type %s', (type) => {
  it('the domain evolves by it', () => {
    const { before, event, version } = sampleOf(type);
    const state: AccountState = evolve(fold(before), event, AT);
    expect(state?.version).toBe(version);
  });

  it('the batch fold of the read model applies it, or names it as left to applyAccountEvent', () => {
    const { before, event, sid, version } = sampleOf(type);
    const row = rowAfter(sid, before);
    const after = row ? evolveRow(row, sid, recorded(sid, version, event)) : rowAfter(sid, [event]);
    if (BATCH_LEAVES_TO_APPLY.includes(type)) expect({ type, after }).toEqual({ type, after: undefined });
    else expect(after).toEqual(expect.objectContaining({ sid, version }));
  });

  it('the audit records it or lists it as unaudited, and its SQL load loads it or declines it by name', () => {
    const { event, sid, version } = sampleOf(type);
    const audited = auditEntryOf(recorded(sid, version, event)) !== null;
    const lists = [SQL_AUDITED, SQL_AUDIT_DECLINED, SQL_NOT_AUDITED].filter((list) => list.includes(type));
    expect({ type, lists: lists.length, audited }).toEqual({ type, lists: 1, audited: !SQL_NOT_AUDITED.includes(type) });
  });

  it("the account read model's SQL load loads it, or declines it by name (it declines unlisted types too)", () => {
    const lists = [SQL_LOADED_FIELDS[type] !== undefined, SQL_LOAD_DECLINED.includes(type)].filter(Boolean).length;
    expect({ type, lists }).toEqual({ type, lists: 1 });
  });
});

// A creation inserts the row evolveRow's fold makes (createdRow, one function for both).
describe.each(EVERY_TYPE.filter((type) => !isCreation(type)))('account event type %s, inline', (type) => {
  it("the inline writer's update knows it", () => {
    const { event } = sampleOf(type);
    const columns = rowUpdateOf(event as Parameters<typeof rowUpdateOf>[0], sql<Date>`now()`);
    expect({ type, columns }).toEqual({ type, columns: expect.any(Object) });
  });
});
