import { Query } from '@nestjs/cqrs';
import type { Caller } from '../../application/caller';
import type { ReplayStep } from '../replay-account/replay-account.query';

/** Another event an account's history points at: its account, stream version and type. */
export interface EventLink {
  event_id: string;
  account_sid: string;
  version: number;
  type: string;
}

export interface HistoryEntry extends ReplayStep {
  /** The cause (causation_id) when the caller may see its account; null otherwise. */
  caused_by: EventLink | null;
  /** The events this one caused (the owner cascade's follow-ups), first MAX_LINKED_EFFECTS. */
  caused: EventLink[];
  /** It caused more than `caused` lists. */
  caused_more: boolean;
}

export interface AccountHistory {
  sid: string;
  /** The stream's version now: the number of events in the whole history. */
  version: number;
  /** Versions `page * pageSize + 1` up to `(page + 1) * pageSize`, oldest first. */
  entries: HistoryEntry[];
}

/** Effects listed per event; a cascade reaches at most the owner's subaccount limit. */
export const MAX_LINKED_EFFECTS = 100;

/**
 * One page of an account's history — ReplayAccountQuery's steps — with each event linked to its
 * cause and to what it caused, as far as `caller` may see those accounts. The caller's right to
 * see the account itself is checked before (GetAccountQuery). Reads only.
 */
export class AccountHistoryQuery extends Query<AccountHistory> {
  constructor(
    readonly caller: Caller,
    readonly sid: string,
    readonly page: number,
    readonly pageSize: number,
  ) {
    super();
  }
}
