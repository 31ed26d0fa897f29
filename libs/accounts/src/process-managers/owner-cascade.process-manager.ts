import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DuplicateEventIdError, type Projection, type RecordedEvent } from '@accountable/event-store';
import {
  ACCOUNT_STREAM_PREFIX,
  AccountEventType,
  causeOvertaken,
  isAccountEvent,
  reactivateByOwner,
  suspendByOwner,
  upgradeByOwner,
  type AccountEvent,
  type AccountState,
} from '../domain';
import { AccountRepository } from '../application/account.repository';

type FollowUp = (sub: AccountState) => AccountEvent[];

/**
 * Carries a main account's operator changes (suspend, reactivate, upgrade) to its subaccounts,
 * each as its own event whose causation id is the parent's event.
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

  constructor(private readonly repository: AccountRepository) {}

  async apply(_trx: unknown, events: readonly RecordedEvent[]): Promise<void> {
    for (const event of events) {
      const followUp = this.followUpFor(event);
      if (!followUp) continue;
      const ownerSid = event.streamId.slice(ACCOUNT_STREAM_PREFIX.length);
      const { state: owner, later } = await this.repository.loadAsOf(ownerSid, event.streamVersion);
      if (!owner?.isMain || causeOvertaken(event, later)) continue;
      for (const subSid of owner.openSubaccounts) await this.cascade(event, ownerSid, subSid, followUp);
    }
  }

  /** Nothing to empty: the cascade's effects are events, which are never removed. */
  async reset(): Promise<void> {}

  private followUpFor(event: RecordedEvent): FollowUp | null {
    if (!event.streamId.startsWith(ACCOUNT_STREAM_PREFIX) || !isAccountEvent(event)) return null;
    if (event.type === AccountEventType.AccountUpgraded) return upgradeByOwner;
    if (event.type === AccountEventType.AccountStatusChanged && event.data.reason === 'operator') {
      if (event.data.status === 'suspended') return suspendByOwner;
      if (event.data.status === 'active') return reactivateByOwner;
    }
    return null;
  }

  private async cascade(cause: RecordedEvent, ownerSid: string, subSid: string, followUp: FollowUp): Promise<void> {
    try {
      await this.repository.retrying(async () => {
        const sub = await this.repository.load(subSid);
        const events = followUp(sub);
        await this.repository.commit(
          [{ sid: subSid, expected: sub!.version, events, eventIds: events.map((_, i) => followUpEventId(cause.eventId, subSid, i)) }],
          {
            actorType: 'system',
            actorSid: null,
            source: 'system',
            correlationId: (cause.metadata.correlationId as string | undefined) ?? cause.eventId,
            causationId: cause.eventId,
          },
          // An owner change committed while this cascade runs stops it here.
          async (read) => !causeOvertaken(cause, await read(ownerSid, cause.streamVersion)),
        );
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
