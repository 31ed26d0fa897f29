import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { DB, READ_DB } from './tokens';

const POLL_MS = 2;
const MAX_WAIT_MS = 1000;

/**
 * Read-your-writes on a replica (READ_DATABASE_URL). Before a read, take the primary's current
 * WAL position — past every commit acknowledged so far, in any process — and wait until the
 * replica has replayed that far. If it has not within a second, read the primary instead: a
 * lagging replica costs speed, never correctness. Without a replica this is a no-op.
 */
@Injectable()
export class ReadYourWrites {
  constructor(
    @Inject(DB) private readonly primary: Kysely<Database>,
    @Inject(READ_DB) private readonly replica: Kysely<Database>,
  ) {}

  /** The database to read from now so that every acknowledged write is visible. */
  async reader(): Promise<Kysely<Database>> {
    if (this.replica === this.primary) return this.primary;
    const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(this.primary);
    const target = rows[0].lsn;
    const deadline = Date.now() + MAX_WAIT_MS;
    for (;;) {
      const { rows: replayed } = await sql<{ caught_up: boolean | null }>`
        SELECT pg_last_wal_replay_lsn() >= ${target}::pg_lsn AS caught_up`.execute(this.replica);
      // null: READ_DATABASE_URL is not a standby at all (e.g. the primary itself): nothing to wait for.
      if (replayed[0].caught_up !== false) return this.replica;
      if (Date.now() >= deadline) return this.primary;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
