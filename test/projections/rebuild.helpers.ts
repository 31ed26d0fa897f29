import { randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import type { EventMetadata, EventStore, FeedPosition } from '@accountable/event-store';
import { CheckpointConflictError, type ProjectionRunner, type RebuildableProjection } from '@accountable/event-store';

/** Shared by the rebuild suites (not a spec itself). */

const accountSid = () => `AC${randomBytes(16).toString('hex')}`;
const stream = (sid: string) => `account-${sid}`;

/**
 * Appends `mains` account histories the way the commands write them, every event type
 * included: subaccounts created and recorded on their owner, renamed, an upgrade, a suspension
 * cascading to the subaccounts, one subaccount closed and released, the reactivation cascading
 * back; API, operator and system metadata. Returns the main accounts' sids.
 */
export async function appendAccounts(store: EventStore, mains: number, subsPerMain = 3): Promise<string[]> {
  const sids: string[] = [];
  for (let m = 0; m < mains; m++) {
    const main = accountSid();
    sids.push(main);
    const api = (): EventMetadata => ({
      actorType: 'account',
      actorSid: main,
      source: 'api',
      sourceIp: '127.0.0.1',
      userAgent: 'rebuild-test',
      requestId: `RQ${randomBytes(16).toString('hex')}`,
      correlationId: randomUUID(),
    });
    const operator: EventMetadata = { actorType: 'operator', source: 'cli', correlationId: randomUUID() };
    let mainVersion = 0;
    const onMain = async (type: string, data: Record<string, unknown>, metadata: EventMetadata) => {
      await store.append(stream(main), [{ type, data, metadata }], mainVersion);
      mainVersion++;
    };
    await onMain('MainAccountCreated', { sid: main, friendlyName: `main ${m}`, type: 'Trial', authToken: `sealed-${main}` }, operator);
    const subs: { sid: string; version: number }[] = [];
    for (let k = 0; k < subsPerMain; k++) {
      const sid = accountSid();
      await store.append(
        stream(sid),
        [
          { type: 'SubaccountCreated', data: { sid, ownerAccountSid: main, friendlyName: `sub ${k}`, type: 'Trial', authToken: `sealed-${sid}` }, metadata: api() },
          { type: 'AccountRenamed', data: { previous: `sub ${k}`, friendlyName: `sub ${k} renamed` }, metadata: api() },
        ],
        'no_stream',
      );
      await onMain('SubaccountAdded', { subaccountSid: sid }, api());
      subs.push({ sid, version: 2 });
    }
    await onMain('AccountUpgraded', { previous: 'Trial', type: 'Full' }, operator);
    const cascade = async (status: string, previous: string, reason: string, cause: string) => {
      for (const sub of subs) {
        if (sub.version < 0) continue;
        await store.append(stream(sub.sid), [{ type: 'AccountStatusChanged', data: { previous, status, reason }, metadata: { causationId: cause } }], sub.version);
        sub.version++;
      }
    };
    const suspension = randomUUID();
    await store.append(
      stream(main),
      [{ eventId: suspension, type: 'AccountStatusChanged', data: { previous: 'active', status: 'suspended', reason: 'operator' }, metadata: operator }],
      mainVersion,
    );
    mainVersion++;
    await cascade('suspended', 'active', 'owner_suspended', suspension);
    if (subs.length > 0) {
      const closed = subs[0];
      await store.append(stream(closed.sid), [{ type: 'AccountStatusChanged', data: { previous: 'suspended', status: 'closed', reason: 'requested' }, metadata: api() }], closed.version);
      closed.version = -1;
      await onMain('SubaccountReleased', { subaccountSid: closed.sid }, api());
    }
    const reactivation = randomUUID();
    await store.append(
      stream(main),
      [{ eventId: reactivation, type: 'AccountStatusChanged', data: { previous: 'suspended', status: 'active', reason: 'operator' }, metadata: operator }],
      mainVersion,
    );
    mainVersion++;
    await cascade('active', 'suspended', 'owner_reactivated', reactivation);
  }
  return sids;
}

/**
 * `count` main accounts created by one INSERT (one transaction): a batch of the rebuild's can
 * then hold thousands of audited events.
 */
export async function insertMains(db: Kysely<Database>, count: number): Promise<void> {
  await sql`
    WITH mains AS (SELECT m, 'AC' || md5(random()::text || m) AS sid FROM generate_series(1, ${count}::int) AS m),
    inserted AS (
      INSERT INTO events (stream_id, stream_version, event_id, type, schema_version, data, metadata)
      SELECT 'account-' || sid, 1, gen_random_uuid(), 'MainAccountCreated', 1,
             jsonb_build_object('sid', sid, 'friendlyName', 'bulk ' || m, 'type', 'Full', 'authToken', 'sealed-' || sid),
             jsonb_build_object('actorType', 'operator', 'source', 'cli', 'correlationId', gen_random_uuid())
        FROM mains ORDER BY m
      RETURNING stream_id
    )
    INSERT INTO streams (stream_id, version) SELECT stream_id, 1 FROM inserted`.execute(db);
}

/** Every row of `table`, in key order: what two builds of a projection must agree on. */
export async function rowsOf(db: Kysely<Database>, table: string): Promise<unknown[]> {
  return (await sql`SELECT * FROM ${sql.table(table)} ORDER BY sid`.execute(db)).rows;
}

/**
 * The live projection's rows: reset, then fed by the runner until its checkpoint reaches the
 * newest event. One catch-up is not enough, as the feed holds back events while any
 * transaction on the server is open (other test files' too).
 */
export async function liveRows(db: Kysely<Database>, runner: ProjectionRunner, projection: RebuildableProjection): Promise<unknown[]> {
  await runner.reset(projection);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await runner.catchUp(projection);
    } catch (error) {
      if (!(error instanceof CheckpointConflictError)) throw error;
    }
    const { rows } = await sql<{ behind: boolean }>`
      SELECT EXISTS (
        SELECT 1 FROM events e, projection_checkpoints c
         WHERE c.name = ${projection.name} AND (e.transaction_id, e.global_position) > (c.transaction_id, c.global_position)
      ) AS behind`.execute(db);
    if (!rows[0].behind) break;
    if (Date.now() > deadline) throw new Error(`projection ${projection.name} did not reach the newest event`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return rowsOf(db, projection.tables[0]);
}

/** The feed's head once it has reached the newest event: other files' open transactions hold it back for a while. */
export async function settledHead(store: EventStore, timeoutMs = 30_000): Promise<FeedPosition> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const position = await store.feedHead();
    if (!(await store.heldBack(position))) return position;
    if (Date.now() > deadline) throw new Error('the feed did not reach the newest event');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
