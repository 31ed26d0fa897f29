import { QueryBus, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { EventStore, type RecordedEvent } from '@accountable/event-store';
import { AccountReader } from '../../read-models/account/account.reader';
import { ACCOUNT_STREAM_PREFIX, accountStreamId } from '../../domain';
import { ReplayAccountQuery } from '../replay-account/replay-account.query';
import { AccountHistoryQuery, MAX_LINKED_EFFECTS, type AccountHistory, type EventLink } from './account-history.query';

@QueryHandler(AccountHistoryQuery)
export class AccountHistoryHandler implements IQueryHandler<AccountHistoryQuery, AccountHistory> {
  constructor(
    private readonly queries: QueryBus,
    private readonly store: EventStore,
    private readonly reader: AccountReader,
  ) {}

  async execute({ caller, sid, page, pageSize }: AccountHistoryQuery): Promise<AccountHistory> {
    const first = page * pageSize + 1;
    // Every state is folded from version 1; only the page's steps are kept.
    const [steps, version] = await Promise.all([
      this.queries.execute(new ReplayAccountQuery(sid, first + pageSize - 1)),
      this.store.streamVersion(accountStreamId(sid)),
    ]);
    const shown = steps.filter((step) => step.version >= first);
    const [causes, effects] = await Promise.all([
      this.store.readEvents(shown.flatMap((step) => (step.causation_id ? [step.causation_id] : []))),
      this.store.readCausedBy(
        shown.map((step) => step.event_id),
        MAX_LINKED_EFFECTS + 1,
      ),
    ]);
    const causeLinks = causes.map(linkOf).filter(isLink);
    const effectLinks = effects.map(linkOf).filter(isLink);
    const visible = await this.reader.visibleSids(caller, [...causeLinks, ...effectLinks].map((link) => link.account_sid));
    return {
      sid,
      version: Math.max(version ?? 0, steps.at(-1)?.version ?? 0),
      entries: shown.map((step) => {
        const cause = causeLinks.find((link) => link.event_id === step.causation_id && visible.has(link.account_sid));
        const caused = effectLinks.filter((link) => link.causation_id === step.event_id && visible.has(link.account_sid));
        return {
          ...step,
          caused_by: cause ? withoutCausation(cause) : null,
          caused: caused.slice(0, MAX_LINKED_EFFECTS).map(withoutCausation),
          caused_more: caused.length > MAX_LINKED_EFFECTS,
        };
      }),
    };
  }
}

type Link = EventLink & { causation_id: string | null };
const isLink = (link: Link | null): link is Link => link !== null;

function linkOf(event: RecordedEvent): Link | null {
  if (!event.streamId.startsWith(ACCOUNT_STREAM_PREFIX)) return null;
  const causation = event.metadata.causationId;
  return {
    event_id: event.eventId,
    account_sid: event.streamId.slice(ACCOUNT_STREAM_PREFIX.length),
    version: event.streamVersion,
    type: event.type,
    causation_id: typeof causation === 'string' ? causation : null,
  };
}

const withoutCausation = ({ event_id, account_sid, version, type }: EventLink): EventLink => ({ event_id, account_sid, version, type });
