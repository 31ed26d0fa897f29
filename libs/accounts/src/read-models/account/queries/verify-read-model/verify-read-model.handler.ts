import { Inject } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { DB } from '@accountable/platform';
import { describeUnopenable, Keyring } from '@accountable/secrets';
import { sealContext } from '../../../../application/idempotency.store';
import { evolveAccountRow, type AccountSnapshotRow } from '../../account.snapshot';
import { ACCOUNT_STREAM_PREFIX, AccountEventType, isAccountEvent, StreamVersionGapError, type AccountState } from '../../../../domain';
import { VerifyReadModelQuery, type Drift, type TimeInversion, type UnopenableSecret, type VerifyReport } from './verify-read-model.query';

const MAX_UNOPENABLE_LISTED = 1_000;
/** Never shown by verify, not even sealed. */
const SEALED = new Set(['auth_token', 'secondary_auth_token']);

/**
 * Walks the streams in batches (constant memory), folds each with evolveAccountRow (the domain's
 * evolve, as rows: the projection's and the commands' definition) and compares every column of
 * its read-model row; then looks for rows with no stream at all.
 * Along the way, each stream's times against its versions: an event earlier than the one before
 * it is drift when that one was stamped under migration 0009's rule (after the position in
 * `event_clock`, which makes such a pair impossible), and information otherwise. Every sealed
 * secret met on the way is opened with the keyring; then the idempotency answers, in batches.
 */
@QueryHandler(VerifyReadModelQuery)
export class VerifyReadModelHandler implements IQueryHandler<VerifyReadModelQuery, VerifyReport> {
  constructor(
    @Inject(DB) private readonly db: Kysely<Database>,
    private readonly keyring: Keyring,
  ) {}

  async execute({ batchSize }: VerifyReadModelQuery): Promise<VerifyReport> {
    const drifts: Drift[] = [];
    const unopenableSecrets: UnopenableSecret[] = [];
    let unopenableCount = 0;
    const checkSecret = (sid: string, where: string, sealed: unknown, context: string) => {
      const reason = typeof sealed === 'string' ? this.keyring.check(sealed, context) : { kind: 'malformed' as const };
      if (!reason) return;
      // A keyring missing a key fails every secret it sealed: listed up to a bound, all counted.
      if (unopenableCount++ < MAX_UNOPENABLE_LISTED) unopenableSecrets.push({ sid, where, reason: describeUnopenable(reason) });
    };
    const oldTimeInversions: TimeInversion[] = [];
    const clock = await this.db.selectFrom('event_clock').select('monotonic_after_position').executeTakeFirst();
    const monotonicAfter = clock?.monotonic_after_position ?? Number.MAX_SAFE_INTEGER;
    let checked = 0;
    let after = ACCOUNT_STREAM_PREFIX;
    for (;;) {
      const streams = await this.db
        .selectFrom('streams')
        .select('stream_id')
        .where('stream_id', '>', after)
        .where('stream_id', 'like', `${ACCOUNT_STREAM_PREFIX}%`)
        .orderBy('stream_id')
        .limit(batchSize)
        .execute();
      if (streams.length === 0) break;
      after = streams[streams.length - 1].stream_id;
      const ids = streams.map((s) => s.stream_id);
      const events = await this.db
        .selectFrom('events')
        .select(['stream_id', 'stream_version', 'type', 'data', 'recorded_at'])
        // Compared in SQL, at the column's microseconds.
        .select(sql<boolean>`recorded_at < lag(recorded_at) OVER (PARTITION BY stream_id ORDER BY stream_version)`.as('runs_back'))
        .select(sql<Date | null>`lag(recorded_at) OVER (PARTITION BY stream_id ORDER BY stream_version)`.as('previous_recorded_at'))
        .select(sql<number | null>`lag(global_position) OVER (PARTITION BY stream_id ORDER BY stream_version)`.as('previous_position'))
        .where('stream_id', 'in', ids)
        .orderBy('stream_id')
        .orderBy('stream_version')
        .execute();
      const sids = ids.map((id) => id.slice(ACCOUNT_STREAM_PREFIX.length));
      const rows = new Map(
        (await this.db.selectFrom('account_read_model').selectAll().where('sid', 'in', sids).execute()).map((r) => [r.sid, r]),
      );
      const keyRows = new Map<string, { sid: string; friendly_name: string | null }[]>();
      for (const key of await this.db.selectFrom('api_keys').select(['sid', 'account_sid', 'friendly_name']).where('account_sid', 'in', sids).execute()) {
        keyRows.set(key.account_sid, [...(keyRows.get(key.account_sid) ?? []), key]);
      }
      const byStream = new Map<string, typeof events>();
      for (const e of events) byStream.set(e.stream_id, [...(byStream.get(e.stream_id) ?? []), e]);
      for (const [streamId, streamEvents] of byStream) {
        const sid = streamId.slice(ACCOUNT_STREAM_PREFIX.length);
        for (const e of streamEvents) {
          if (
            e.type === AccountEventType.MainAccountCreated ||
            e.type === AccountEventType.SubaccountCreated ||
            e.type === AccountEventType.SecondaryAuthTokenCreated
          ) {
            checkSecret(sid, `${e.type} v${e.stream_version}`, (e.data as { authToken?: unknown } | null)?.authToken, sid);
          }
          if (!e.runs_back) continue;
          const [at, previous] = [e.recorded_at.toISOString(), e.previous_recorded_at!.toISOString()];
          if (Number(e.previous_position) > monotonicAfter) {
            drifts.push({ sid, field: 'recorded_at', expected: `at or after ${previous} (version ${e.stream_version - 1})`, actual: `${at} (version ${e.stream_version})` });
          } else {
            oldTimeInversions.push({ sid, version: e.stream_version, recordedAt: at, previousRecordedAt: previous });
          }
        }
        checked++;
        // The row each event leaves, by the definition the projection and the commands write it with.
        let state: AccountState = null;
        let expectedRow: AccountSnapshotRow | null = null;
        try {
          for (const e of streamEvents.filter(isAccountEvent)) {
            ({ state, row: expectedRow } = evolveAccountRow(state, { type: e.type, data: e.data, recordedAt: e.recorded_at, streamVersion: e.stream_version } as never));
          }
        } catch (error) {
          // A log no command could have written (a version missing, a second creation, an event
          // before any creation): named as drift, and verify goes on with the other streams.
          if (error instanceof StreamVersionGapError) drifts.push({ sid, field: '(versions)', expected: 'versions 1..n, each once', actual: error.message });
          else drifts.push({ sid, field: '(events)', expected: 'a stream the domain can fold', actual: error instanceof Error ? error.message : String(error) });
          continue;
        }
        const row = rows.get(sid);
        if (!state || !expectedRow) continue;
        if (!row) {
          drifts.push({ sid, field: '(row)', expected: 'present', actual: 'missing' });
          continue;
        }
        // The same string as the event's is already checked; anything else is opened too.
        if (row.auth_token !== state.authToken) checkSecret(sid, 'account_read_model', row.auth_token, sid);
        if (row.secondary_auth_token !== null && row.secondary_auth_token !== state.secondaryAuthToken) {
          checkSecret(sid, 'account_read_model secondary_auth_token', row.secondary_auth_token, sid);
        }
        const { sid: _sid, ...fields } = expectedRow;
        const expected: Record<string, unknown> = { ...fields, date_created: fields.date_created.getTime(), date_updated: fields.date_updated.getTime() };
        const actual: Record<string, unknown> = {
          ...row,
          date_created: row.date_created.getTime(),
          date_updated: row.date_updated.getTime(),
        };
        // api_keys: exactly the live keys of the log, each with its name.
        const stored = new Map((keyRows.get(sid) ?? []).map((k) => [k.sid, k.friendly_name]));
        for (const [keySid, name] of Object.entries(state.apiKeys)) {
          if (!stored.has(keySid)) drifts.push({ sid, field: `api_keys ${keySid}`, expected: 'present', actual: 'missing' });
          else if (stored.get(keySid) !== name) drifts.push({ sid, field: `api_keys ${keySid} friendly_name`, expected: name, actual: stored.get(keySid) });
        }
        for (const keySid of stored.keys()) {
          if (!Object.hasOwn(state.apiKeys, keySid)) drifts.push({ sid, field: `api_keys ${keySid}`, expected: 'absent (deleted or never created)', actual: 'present' });
        }
        for (const [field, value] of Object.entries(expected)) {
          if (actual[field] !== value) {
            drifts.push({
              sid,
              field,
              expected: SEALED.has(field) ? (value === null ? null : '(sealed token from the log)') : show(field, value),
              actual: SEALED.has(field) ? (actual[field] === null ? null : '(differs)') : show(field, actual[field]),
            });
          }
        }
      }
    }
    const orphans = await this.db
      .selectFrom('account_read_model as r')
      .select('r.sid')
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('streams').select('stream_id').where('stream_id', '=', sql<string>`${ACCOUNT_STREAM_PREFIX} || r.sid`))),
      )
      .execute();
    for (const { sid } of orphans) drifts.push({ sid, field: '(row)', expected: 'absent (no stream)', actual: 'present' });
    const orphanKeys = await this.db
      .selectFrom('api_keys as k')
      .select(['k.sid', 'k.account_sid'])
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('streams').select('stream_id').where('stream_id', '=', sql<string>`${ACCOUNT_STREAM_PREFIX} || k.account_sid`))),
      )
      .execute();
    for (const key of orphanKeys) drifts.push({ sid: key.account_sid, field: `api_keys ${key.sid}`, expected: 'absent (no stream)', actual: 'present' });
    const idempotencyAnswersChecked = await this.checkIdempotencyAnswers(batchSize, checkSecret);
    return { accountsChecked: checked, drifts, oldTimeInversions, unopenableSecrets, unopenableCount, idempotencyAnswersChecked };
  }

  /** Every stored idempotency answer, in key order, a batch at a time. */
  private async checkIdempotencyAnswers(batchSize: number, checkSecret: (sid: string, where: string, sealed: unknown, context: string) => void): Promise<number> {
    let checked = 0;
    let after: { account_sid: string; key: string } | undefined;
    for (;;) {
      let query = this.db.selectFrom('idempotency_keys').select(['account_sid', 'key', 'response']);
      if (after) query = query.where(sql<boolean>`(account_sid, key) > (${after.account_sid}, ${after.key})`);
      const rows = await query.orderBy('account_sid').orderBy('key').limit(batchSize).execute();
      if (rows.length === 0) return checked;
      for (const row of rows) checkSecret(row.account_sid, `idempotency_keys ${JSON.stringify(row.key)}`, row.response, sealContext({ accountSid: row.account_sid, key: row.key }));
      checked += rows.length;
      after = rows[rows.length - 1];
    }
  }
}

function show(field: string, value: unknown): unknown {
  return (field === 'date_created' || field === 'date_updated') && typeof value === 'number' ? new Date(value).toISOString() : value;
}
