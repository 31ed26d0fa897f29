import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore, type RecordedEvent } from '@accountable/event-store';
import { formatRfc2822 } from '@accountable/twilio';
import { AccountEventType, accountStreamId, evolveNext, isAccountEvent, type AccountState } from '../../domain';
import { AccountStateAtQuery, ReplayAccountQuery, type AccountSnapshot, type ReplayStep } from './replay-account.query';

const SHOWN_FIELDS = ['friendly_name', 'owner_account_sid', 'status', 'type'] as const;

export function snapshotOf(state: NonNullable<AccountState>): AccountSnapshot {
  return {
    sid: state.sid,
    friendly_name: state.friendlyName,
    owner_account_sid: state.ownerAccountSid,
    status: state.status,
    type: state.type,
    date_created: state.createdAt ? formatRfc2822(state.createdAt) : null,
    date_updated: state.updatedAt ? formatRfc2822(state.updatedAt) : null,
    version: state.version,
  };
}

/**
 * Folds a stream step by step with the domain's own evolve: replay shows what the service
 * believes. `events` is a prefix of the stream (a version gap throws).
 */
function* replay(events: readonly RecordedEvent[]): Generator<{ event: RecordedEvent; before: AccountState; after: AccountState }> {
  let state: AccountState = null;
  for (const event of events) {
    if (!isAccountEvent(event)) continue;
    const before = state;
    state = evolveNext(state, event);
    yield { event, before, after: state };
  }
}

/** What an event says beyond the fields it changes: why a status changed, which subaccount was added. */
function detailsOf(event: RecordedEvent): Pick<ReplayStep, 'reason' | 'subaccount_sid'> {
  if (!isAccountEvent(event)) return { reason: null, subaccount_sid: null };
  switch (event.type) {
    case AccountEventType.AccountStatusChanged:
      return { reason: event.data.reason, subaccount_sid: null };
    case AccountEventType.SubaccountAdded:
    case AccountEventType.SubaccountReleased:
      return { reason: null, subaccount_sid: event.data.subaccountSid };
    default:
      return { reason: null, subaccount_sid: null };
  }
}

@QueryHandler(ReplayAccountQuery)
export class ReplayAccountHandler implements IQueryHandler<ReplayAccountQuery, ReplayStep[]> {
  constructor(private readonly store: EventStore) {}

  async execute({ sid, toVersion }: ReplayAccountQuery): Promise<ReplayStep[]> {
    const events = await this.store.readStream(accountStreamId(sid), { toVersion });
    return [...replay(events)].map(({ event, before, after }) => {
      const next = snapshotOf(after!);
      const previous = before ? snapshotOf(before) : null;
      const changes: ReplayStep['changes'] = {};
      for (const field of SHOWN_FIELDS) {
        if (previous?.[field] !== next[field]) changes[field] = { previous: previous?.[field] ?? null, updated: next[field] };
      }
      const m = event.metadata;
      return {
        version: event.streamVersion,
        type: event.type,
        event_id: event.eventId,
        recorded_at: event.recordedAt.toISOString(),
        actor: {
          type: m.actorType ?? null,
          sid: m.actorSid ?? null,
          source: m.source ?? null,
          ip: m.sourceIp ?? null,
          user_agent: m.userAgent ?? null,
          request_id: m.requestId ?? null,
        },
        causation_id: m.causationId ?? null,
        ...detailsOf(event),
        changes,
        state: next,
      };
    });
  }
}

@QueryHandler(AccountStateAtQuery)
export class AccountStateAtHandler implements IQueryHandler<AccountStateAtQuery, AccountSnapshot | null> {
  constructor(private readonly store: EventStore) {}

  async execute({ sid, at }: AccountStateAtQuery): Promise<AccountSnapshot | null> {
    // As of an instant: the longest version prefix recorded by then (see ReadStreamOptions.until).
    const events = await this.store.readStream(
      accountStreamId(sid),
      'asOf' in at ? { until: at.asOf } : { toVersion: at.version },
    );
    let state: AccountState = null;
    for (const { after } of replay(events)) state = after;
    return state ? snapshotOf(state) : null;
  }
}
