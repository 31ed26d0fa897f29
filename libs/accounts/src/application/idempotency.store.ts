import { Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import { ADVISORY_LOCK_CLASS, type Database } from '@accountable/database';
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

/**
 * A live row for the key appeared between the look-up and the insert. Unreachable while every
 * user of a key takes `lock` first; should it happen, the repository rolls the attempt back and
 * retries it, and the retry replays the winner's answer.
 */
export class IdempotencyKeyTakenError extends Error {
  override readonly name = 'IdempotencyKeyTakenError';
}

/** How long a key is honoured (see the 0004 migration). */
export const IDEMPOTENCY_KEY_LIFETIME = '24 hours';

const LOCK_CLASS = ADVISORY_LOCK_CLASS.idempotencyKey;

/** The `idempotency_keys` table; every method runs on the caller's transaction. */
@Injectable()
export class IdempotencyStore {
  constructor(private readonly keyring: Keyring) {}

  /**
   * Serialises the requests sharing a key, so the second one decides nothing until the first has
   * committed or rolled back. Taken before any stream lock and takes no transaction id.
   */
  async lock(trx: Kysely<Database>, key: IdempotencyKey): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${`${key.accountSid}:${key.key}`}))`.execute(trx);
  }

  /** The answer stored under the key, or null; IdempotencyKeyReusedError if it was another request. */
  async find(executor: Kysely<Database>, key: IdempotencyKey): Promise<AccountRecord | null> {
    const row = await executor
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'response'])
      .where('account_sid', '=', key.accountSid)
      .where('key', '=', key.key)
      .where('created_at', '>', sql<Date>`now() - ${IDEMPOTENCY_KEY_LIFETIME}::interval`)
      .executeTakeFirst();
    if (!row) return null;
    if (row.request_hash !== key.requestHash) throw new IdempotencyKeyReusedError(key.key);
    const stored = JSON.parse(this.keyring.open(row.response, sealContext(key))) as AccountRecord;
    return { ...stored, dateCreated: new Date(stored.dateCreated), dateUpdated: new Date(stored.dateUpdated) };
  }

  /**
   * Stores the answer under the key, sealed: it carries the account's auth token. A row past its
   * lifetime is replaced; IdempotencyKeyTakenError if a live one is there.
   */
  async insert(trx: Kysely<Database>, key: IdempotencyKey, answer: AccountRecord): Promise<void> {
    const response = this.keyring.seal(JSON.stringify(answer), sealContext(key));
    const { rows } = await sql`
      INSERT INTO idempotency_keys (account_sid, key, request_hash, response)
      VALUES (${key.accountSid}, ${key.key}, ${key.requestHash}, ${response})
      ON CONFLICT (account_sid, key) DO UPDATE
         SET request_hash = excluded.request_hash, response = excluded.response, created_at = excluded.created_at
       WHERE idempotency_keys.created_at <= now() - ${IDEMPOTENCY_KEY_LIFETIME}::interval
      RETURNING 1`.execute(trx);
    if (rows.length === 0) throw new IdempotencyKeyTakenError(`Idempotency-Key '${key.key}' of ${key.accountSid} was stored meanwhile`);
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

/** Binds the sealed answer to its row: it does not open under another account or key. */
export function sealContext(key: Pick<IdempotencyKey, 'accountSid' | 'key'>): string {
  return `idempotency:${key.accountSid}:${key.key}`;
}
