import type { Kysely } from 'kysely';
import { ACCOUNT_STREAM_PREFIX, AccountEventType } from '@accountable/accounts';
import type { Database } from '@accountable/database';

/** Accounts remembered; past it the memory starts again (an owner is one query away). */
const MAX_REMEMBERED = 100_000;

/**
 * The main account of each account (itself for a main account), for the tenant rule. Read from
 * the account's creation event (version 1 of its stream), which the feed delivered before any
 * other event of the account: never from a read model, which may lag behind the feed. An
 * account's owner never changes, so what is known is kept.
 */
export class AccountOwners {
  private readonly known = new Map<string, string>();

  constructor(private readonly db: Kysely<Database>) {}

  remember(accountSid: string, ownerSid: string): void {
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.set(accountSid, ownerSid);
  }

  /** Owners of `sids`; a sid with no creation event (none should exist) is absent from the answer. */
  async ownersOf(sids: Iterable<string>): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    const missing: string[] = [];
    for (const sid of new Set(sids)) {
      const owner = this.known.get(sid);
      if (owner) owners.set(sid, owner);
      else missing.push(sid);
    }
    if (missing.length === 0) return owners;
    const rows = await this.db
      .selectFrom('events')
      .select(['stream_id', 'type', 'data'])
      .where(
        'stream_id',
        'in',
        missing.map((sid) => `${ACCOUNT_STREAM_PREFIX}${sid}`),
      )
      .where('stream_version', '=', 1)
      .execute();
    for (const row of rows) {
      const sid = row.stream_id.slice(ACCOUNT_STREAM_PREFIX.length);
      const owner = row.type === AccountEventType.SubaccountCreated ? row.data.ownerAccountSid : row.type === AccountEventType.MainAccountCreated ? sid : undefined;
      if (typeof owner !== 'string') continue;
      this.remember(sid, owner);
      owners.set(sid, owner);
    }
    return owners;
  }
}
