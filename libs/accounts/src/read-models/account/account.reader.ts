import { Inject, Injectable } from '@nestjs/common';
import { sql, type Kysely, type Selectable } from 'kysely';
import { PREPARED, type AccountReadModelTable, type Database } from '@accountable/database';
import { DB, READ_DB, ReadYourWrites } from '@accountable/platform';
import { Keyring } from '@accountable/secrets';
import type { Account, AccountStatus, AccountType } from '../../domain';
import { rowOfAccount } from './account.snapshot';
import type { Caller } from '../../application/caller';

/** An account as the API shows it; `authToken` is decrypted. */
export interface AccountRecord {
  sid: string;
  ownerAccountSid: string;
  friendlyName: string;
  status: AccountStatus;
  type: AccountType;
  authToken: string;
  dateCreated: Date;
  dateUpdated: Date;
}

export interface ListKey {
  dateCreated: Date;
  sid: string;
}

export interface ListRequest {
  /** The authenticated caller: a main account lists itself and its subaccounts, a subaccount only itself. */
  caller: { sid: string; isMain: boolean };
  friendlyName?: string;
  status?: string;
  limit: number;
  after?: ListKey;
  /** Rows before the key, returned nearest first (descending). */
  before?: ListKey;
  offset?: number;
}

/** A read-model row as stored: its auth token still sealed. */
export type AccountRow = Selectable<AccountReadModelTable>;

/**
 * Every column of the row, spelled out for a prepared statement (a prepared `SELECT *` fails once
 * a migration adds a column under a running process). A column missing here leaves the rows read
 * with it short of AccountRow, which does not compile.
 */
const ACCOUNT_ROW_COLUMNS = [
  'sid', 'owner_account_sid', 'is_main', 'friendly_name', 'type', 'status', 'auth_token', 'secondary_auth_token',
  'suspended_by_owner', 'open_subaccounts', 'date_created', 'date_updated', 'version',
] as const satisfies readonly (keyof AccountRow)[];

/** Authentication's lookup: the caller's row, and the named account's when it was read with it. */
export interface AuthenticationRows {
  caller: AccountRow | undefined;
  /** null: read, and there is no such account; undefined: not read here (see findForAuthentication). */
  named: AccountRow | null | undefined;
}

/** Read-model queries, one method one query. */
@Injectable()
export class AccountReader {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    @Inject(READ_DB) private readonly readDb: Kysely<Database>,
    private readonly consistency: ReadYourWrites,
    private readonly keyring: Keyring,
  ) {}

  /**
   * `primary`: right after a write, and for authentication. Otherwise the read model's replica
   * when there is one, once it has caught up with every acknowledged write (read-your-writes).
   */
  async findRow(sid: string, primary = false): Promise<AccountRow | undefined> {
    const db = primary ? this.db : await this.consistency.reader();
    return db.selectFrom('account_read_model').selectAll().where('sid', '=', sid).executeTakeFirst();
  }

  /**
   * The caller's row for authentication (the primary) and, in the same statement, the row of the
   * account the request names: always when it is the caller, else only when its own read would
   * go to the primary anyway. With a replica that read stays on the replica (findRow), which
   * takes the load the replica is there for.
   */
  async findForAuthentication(callerSid: string, namedSid?: string): Promise<AuthenticationRows> {
    const withNamed = namedSid !== undefined && (namedSid === callerSid || this.readDb === this.db);
    const sids = withNamed && namedSid !== callerSid ? [callerSid, namedSid] : [callerSid];
    // Every request's first statement: prepared (named), so with its columns spelled out.
    const rows = await this.db.selectFrom('account_read_model').select(ACCOUNT_ROW_COLUMNS).where('sid', 'in', sids).modifyEnd(PREPARED).execute();
    return {
      caller: rows.find((row) => row.sid === callerSid),
      named: withNamed ? (rows.find((row) => row.sid === namedSid) ?? null) : undefined,
    };
  }

  async find(sid: string, primary = false): Promise<AccountRecord | null> {
    const row = await this.findRow(sid, primary);
    return row ? this.toRecord(row) : null;
  }

  /** A command's answer: the account as its events left it (the row it wrote, field for field). */
  recordOf(state: Account): AccountRecord {
    return this.toRecord(rowOfAccount(state));
  }

  async list(request: ListRequest): Promise<AccountRecord[]> {
    let query = (await this.consistency.reader()).selectFrom('account_read_model').selectAll();
    query = request.caller.isMain
      ? query.where('owner_account_sid', '=', request.caller.sid)
      : query.where('sid', '=', request.caller.sid);
    if (request.friendlyName !== undefined) query = query.where('friendly_name', '=', request.friendlyName);
    if (request.status !== undefined) query = query.where('status', '=', request.status);
    if (request.before) {
      query = query
        .where(sql<boolean>`(date_created, sid) < (${request.before.dateCreated}::timestamptz, ${request.before.sid})`)
        .orderBy('date_created', 'desc')
        .orderBy('sid', 'desc');
    } else {
      if (request.after) query = query.where(sql<boolean>`(date_created, sid) > (${request.after.dateCreated}::timestamptz, ${request.after.sid})`);
      query = query.orderBy('date_created', 'asc').orderBy('sid', 'asc');
      if (request.offset) query = query.offset(request.offset);
    }
    const rows = await query.limit(request.limit).execute();
    return rows.map((row) => this.toRecord(row));
  }

  /** Which of `sids` the caller may see (canSee), in one query. */
  async visibleSids(caller: Caller, sids: readonly string[]): Promise<Set<string>> {
    const distinct = [...new Set(sids)];
    if (!caller.isMain) return new Set(distinct.filter((sid) => sid === caller.sid));
    if (distinct.length === 0) return new Set();
    const rows = await (await this.consistency.reader())
      .selectFrom('account_read_model')
      .select('sid')
      .where('sid', 'in', distinct)
      .where('owner_account_sid', '=', caller.sid)
      .execute();
    return new Set(rows.map((row) => row.sid));
  }

  toRecord(row: AccountRow): AccountRecord {
    return {
      sid: row.sid,
      ownerAccountSid: row.owner_account_sid,
      friendlyName: row.friendly_name,
      status: row.status as AccountStatus,
      type: row.type as AccountType,
      authToken: this.keyring.open(row.auth_token, row.sid),
      dateCreated: row.date_created,
      dateUpdated: row.date_updated,
    };
  }
}
