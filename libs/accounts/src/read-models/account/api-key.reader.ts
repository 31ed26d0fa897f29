import { Inject, Injectable } from '@nestjs/common';
import type { Kysely, Selectable } from 'kysely';
import type { AccountReadModelTable, ApiKeysTable, Database } from '@accountable/database';
import { DB, ReadYourWrites } from '@accountable/platform';

/** An API key as the API shows it: never its secret, nor the verifier. */
export interface ApiKeyRecord {
  sid: string;
  accountSid: string;
  friendlyName: string | null;
  dateCreated: Date;
  dateUpdated: Date;
}

/** A key with its verifier and its account's row, for authentication only. */
export interface ApiKeyCredential {
  verifier: string;
  account: Selectable<AccountReadModelTable>;
}

const toRecord = (row: Pick<Selectable<ApiKeysTable>, 'sid' | 'account_sid' | 'friendly_name' | 'date_created' | 'date_updated'>): ApiKeyRecord => ({
  sid: row.sid,
  accountSid: row.account_sid,
  friendlyName: row.friendly_name,
  dateCreated: row.date_created,
  dateUpdated: row.date_updated,
});

const PUBLIC_COLUMNS = ['sid', 'account_sid', 'friendly_name', 'date_created', 'date_updated'] as const;

/** api_keys queries, one method one query. */
@Injectable()
export class ApiKeyReader {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly consistency: ReadYourWrites,
  ) {}

  /**
   * The key's verifier and its account's row, in one statement on the primary: a key deleted,
   * or an account suspended, is seen by the next request in every process.
   */
  async findForAuthentication(keySid: string): Promise<ApiKeyCredential | undefined> {
    const row = await this.db
      .selectFrom('api_keys as k')
      .innerJoin('account_read_model as a', 'a.sid', 'k.account_sid')
      .selectAll('a')
      .select('k.secret_verifier')
      .where('k.sid', '=', keySid)
      .executeTakeFirst();
    if (!row) return undefined;
    const { secret_verifier: verifier, ...account } = row;
    return { verifier, account };
  }

  async find(accountSid: string, keySid: string, primary = false): Promise<ApiKeyRecord | null> {
    const db = primary ? this.db : await this.consistency.reader();
    const row = await db.selectFrom('api_keys').select(PUBLIC_COLUMNS).where('sid', '=', keySid).where('account_sid', '=', accountSid).executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** In creation order; `limit` + 1 rows tell whether a next page exists. */
  async list(accountSid: string, limit: number, offset: number): Promise<ApiKeyRecord[]> {
    const rows = await (await this.consistency.reader())
      .selectFrom('api_keys')
      .select(PUBLIC_COLUMNS)
      .where('account_sid', '=', accountSid)
      .orderBy('date_created')
      .orderBy('sid')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toRecord);
  }
}
