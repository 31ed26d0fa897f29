import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DuplicateEventIdError, EventStore, type Projection, type RecordedEvent } from '@accountable/event-store';
import {
  ACCOUNT_STREAM_PREFIX,
  accountStreamId,
  causeOvertaken,
  fold,
  followUpOf,
  isAccountEvent,
  openSubaccountsOf,
  type CascadeEvents,
  type FollowUp,
} from '../domain';
import { AccountRepository } from '../application/account.repository';

const NO_FOLLOW_UP: CascadeEvents = { subaccount: [], owner: [] };

/**
 * Carries a main account's operator changes (suspend, reactivate, upgrade, close) to its
 * subaccounts, each as its own event whose causation id is the parent's event. Which change
 * cascades, and as what, is the domain's (followUpOf); this is the delivery.
 *
 * Driven by the durable feed with a checkpoint, so a cascade interrupted by a crash resumes
 * where it stopped. Each follow-up event gets an id derived from (parent event, subaccount):
 * if it is already stored anywhere, that subaccount was done and is skipped, so replaying a
 * batch never applies a cascade twice.
 *
 * The feed can run late (a projector catching up, a checkpoint reset), so a cause is applied to
 * the owner as the cause left it, never as it is now: it reaches the subaccounts open at the
 * cause's version (not one created since), and nothing at all once a later status change of the
 * owner has overtaken it (`causeOvertaken`), checked when the cause comes up and again for each
 * subaccount under the owner's lock, in the transaction that writes the follow-up.
 */
@Injectable()
export class OwnerCascadeProcessManager implements Projection {
  readonly name = 'owner-cascade';
  /** Its effects are appends, each in its own transaction (see Projection.ownTransactions). */
  readonly ownTransactions = true;

  constructor(
    private readonly repository: AccountRepository,
    private readonly store: EventStore,
  ) {}

  async apply(_trx: unknown, events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      const followUp = this.followUpFor(event);
      if (!followUp) continue;
      const ownerSid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
      // Whom the cause reaches is in the owner's stream (the state keeps only their count); an
      // operator's change is rare, so this fold is not on any request's path.
      const stream = await this.store.readStream(accountStreamId(ownerSid));
      const upToCause = stream.filter((e) => e.streamVersion <= event.streamVersion);
      const owner = fold(upToCause.map((e) => ({ type: e.type, data: e.data, streamVersion: e.streamVersion }) as never));
      if (!owner?.isMain || causeOvertaken(event, stream.slice(upToCause.length))) continue;
      for (const subSid of openSubaccountsOf(upToCause)) await this.cascade(event, ownerSid, subSid, followUp);
    }
  }

  /** Nothing to empty: the cascade's effects are events, which are never removed. */
  async reset(): Promise<void> {}

  private followUpFor(event: RecordedEvent): FollowUp | null {
    if (!event.streamId.startsWith(ACCOUNT_STREAM_PREFIX) || !isAccountEvent(event)) return null;
    return followUpOf(event);
  }

  private async cascade(cause: RecordedEvent, ownerSid: string, subSid: string, followUp: FollowUp): Promise<void> {
    try {
      await this.repository.execute({
        // The owner too: an owner change committed while this cascade runs moves its version, so
        // this commit fails and the next attempt sees the change (21476's protection, in reverse).
        reads: [subSid, ownerSid],
        context: {
          actorType: 'system',
          actorSid: null,
          source: 'system',
          correlationId: (cause.metadata.correlationId as string | undefined) ?? cause.eventId,
          causationId: cause.eventId,
        },
        decide: async (accounts, executor) => {
          const later = await this.store.readStream(accountStreamId(ownerSid), { fromVersion: cause.streamVersion + 1 }, executor);
          const events = causeOvertaken(cause, later) ? NO_FOLLOW_UP : followUp(accounts.get(subSid));
          // The owner's events of a follow-up (a close's release) get ids numbered on from the subaccount's.
          const first = events.subaccount.length;
          return {
            changes: [
              { sid: subSid, events: events.subaccount, eventIds: events.subaccount.map((_, i) => followUpEventId(cause.eventId, subSid, i)) },
              { sid: ownerSid, events: events.owner, eventIds: events.owner.map((_, i) => followUpEventId(cause.eventId, subSid, first + i)) },
            ],
            result: () => undefined,
          };
        },
      });
    } catch (error) {
      if (error instanceof DuplicateEventIdError) return; // done before a crash or a replay
      throw error;
    }
  }
}

/** A name-based (v5-style) UUID: the same cause and subaccount always give the same id. */
export function followUpEventId(causeEventId: string, subSid: string, index: number): string {
  const hash = createHash('sha1').update(`owner-cascade:${causeEventId}:${subSid}:${index}`).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
