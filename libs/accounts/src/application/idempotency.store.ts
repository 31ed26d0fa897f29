import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { StoredAnswer } from '@accountable/event-store';
import { Keyring } from '@accountable/secrets';
import type { AccountRecord } from '../read-models/account/account.reader';

/**
 * An API request's `Idempotency-Key`, scoped to the account that sent it, and the hash of what
 * makes a retry "the same request" (computed by the HTTP layer: method, path, known parameters).
 */
export interface IdempotencyKey {
  accountSid: string;
  key: string;
  requestHash: string;
}

/** The key was already used, within its lifetime, by a request with another hash. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';

  constructor(readonly key: string) {
    super(`Idempotency-Key '${key}' was already used with a different request`);
  }
}

export const isIdempotencyKeyReusedError = (error: unknown): error is IdempotencyKeyReusedError => error instanceof IdempotencyKeyReusedError;

/** How long a key is honoured (see the 0004 migration). */
export const IDEMPOTENCY_KEY_LIFETIME = '24 hours';

/** The key's row as a command's read finds it (live rows only). */
export interface StoredIdempotencyRow {
  request_hash: string;
  response: string;
}

/**
 * The `idempotency_keys` table. A command reads a key's live row with its decision state and
 * stores its answer in its commit (commit_command), so the key is recorded if and only if the
 * events are; a second request that got past the read while the first committed loses at the
 * key's primary key and, read again, gets the first one's answer.
 */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly keyring: Keyring) {}

  /** The answer stored under the key; IdempotencyKeyReusedError if it was another request. */
  answerOf(key: IdempotencyKey, stored: StoredIdempotencyRow): AccountRecord {
    return this.opened(key, stored, reviveRecordDates);
  }

  /** The answer as the commit stores it under the key: sealed, since it carries the account's auth token. */
  toStore(key: IdempotencyKey, answer: AccountRecord): StoredAnswer {
    return this.sealed(key, answer);
  }

  /**
   * Any command's stored answer (JSON), for commands that store it without a decision of
   * AccountRepository's (Event Streams, through storeAnswer): `revive` gives back what JSON lost (dates).
   */
  opened<T>(key: IdempotencyKey, stored: StoredIdempotencyRow, revive: (json: T) => T = (json) => json): T {
    if (stored.request_hash !== key.requestHash) throw new IdempotencyKeyReusedError(key.key);
    return revive(JSON.parse(this.keyring.open(stored.response, sealContext(key))) as T);
  }

  /** Sealed whatever it holds: an answer may carry a secret, and one rule is simpler than knowing which. */
  sealed(key: IdempotencyKey, answer: unknown): StoredAnswer {
    return {
      scope: key.accountSid,
      key: key.key,
      requestHash: key.requestHash,
      response: this.keyring.seal(JSON.stringify(answer), sealContext(key)),
      lifetime: IDEMPOTENCY_KEY_LIFETIME,
    };
  }

  /** The key's live row (within its lifetime), read in the caller's transaction; null when there is none. */
  async liveRow(executor: Kysely<Database>, key: IdempotencyKey): Promise<StoredIdempotencyRow | null> {
    const row = await executor
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'response'])
      .where('account_sid', '=', key.accountSid)
      .where('key', '=', key.key)
      .where(sql<boolean>`created_at > now() - ${IDEMPOTENCY_KEY_LIFETIME}::interval`)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Deletes up to `limit` keys past their lifetime, skipping rows another transaction holds. */
  async pruneExpired(executor: Kysely<Database>, limit: number): Promise<number> {
    const result = await sql`
      DELETE FROM idempotency_keys
       WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM idempotency_keys
          WHERE created_at <= now() - ${IDEMPOTENCY_KEY_LIFETIME}::interval
          LIMIT ${limit}
            FOR UPDATE SKIP LOCKED))`.execute(executor);
    return Number(result.numAffectedRows ?? 0n);
  }
}

/** An AccountRecord (or any record with these two dates) from its JSON. */
export function reviveRecordDates<T extends { dateCreated: Date; dateUpdated: Date }>(answer: T): T {
  return { ...answer, dateCreated: new Date(answer.dateCreated), dateUpdated: new Date(answer.dateUpdated) };
}

/** Binds the sealed answer to its row: it does not open under another account or key. */
export function sealContext(key: Pick<IdempotencyKey, 'accountSid' | 'key'>): string {
  return `idempotency:${key.accountSid}:${key.key}`;
}
