import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import type { Database } from '@accountable/database';
import { AuditHistoryQueries, type AuditListRequest } from '@accountable/accounts';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];
const hex = (n: number, width = 32) => n.toString(16).padStart(width, '0');
const MAINS = 40;
const SUBS_PER_MAIN = 10;
const EVENTS_PER_SUB = 25;

describe('audit history query plans', () => {
  let t: TestDatabase;
  let logged: Kysely<Database>;
  const captured: CompiledQuery[] = [];
  const main = `AC${hex(7)}`;
  const sub = `AC${hex(7 * 1000 + 3)}`;
  const key = { eventDate: new Date('2024-06-01T12:00:00.000Z'), sid: `AE${hex(123456)}` };

  beforeAll(async () => {
    t = await createTestDatabase();
    // Enough tenants, resources, actors and addresses that the planner picks indexes on their
    // merits: no enable_seqscan games.
    await sql`
      INSERT INTO audit_history (sid, event_id, global_position, account_sid, resource_sid, resource_type, event_type,
                                 event_data, actor_type, actor_sid, source, source_ip_address, description, event_date)
      SELECT 'AE' || lpad(to_hex(n), 32, '0'),
             ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
             n,
             'AC' || lpad(to_hex(m), 32, '0'),
             'AC' || lpad(to_hex(m * 1000 + s), 32, '0'),
             'account',
             CASE WHEN e = 0 THEN 'account.created' ELSE 'account.updated' END,
             '{}'::jsonb,
             'account',
             'AC' || lpad(to_hex(m * 1000 + (n % 3)), 32, '0'),
             'api',
             '10.' || m || '.' || s || '.' || (e % 4),
             'x',
             date_trunc('milliseconds', timestamptz '2024-01-01' + n * interval '1 minute')
        FROM generate_series(1, ${MAINS}) AS m,
             generate_series(0, ${SUBS_PER_MAIN - 1}) AS s,
             generate_series(0, ${EVENTS_PER_SUB - 1}) AS e,
             LATERAL (SELECT (m * ${SUBS_PER_MAIN} + s) * ${EVENTS_PER_SUB} + e AS n) AS g`.execute(t.db);
    await sql`ANALYZE audit_history`.execute(t.db);
    logged = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: t.pool }),
      log: (event) => {
        if (event.level === 'query') captured.push(event.query);
      },
    });
  });
  afterAll(() => t.destroy());

  const mainViewer = { sid: main, isMain: true };
  const subViewer = { sid: sub, isMain: false };
  const range = { startDate: new Date('2024-01-01T00:00:00Z'), endBefore: new Date('2025-01-01T00:00:00Z') };

  it.each<[string, Omit<AuditListRequest, 'limit'>, string]>([
    ['main, no filter', { viewer: mainViewer }, 'audit_history_account_idx'],
    ['main, dates', { viewer: mainViewer, ...range }, 'audit_history_account_idx'],
    ['main, next page', { viewer: mainViewer, after: key }, 'audit_history_account_idx'],
    ['main, previous page', { viewer: mainViewer, before: key }, 'audit_history_account_idx'],
    ['main, ActorSid', { viewer: mainViewer, actorSid: `AC${hex(7 * 1000 + 1)}`, after: key }, 'audit_history_account_actor_idx'],
    ['main, EventType', { viewer: mainViewer, eventType: 'account.created', ...range }, 'audit_history_account_type_idx'],
    ['main, SourceIpAddress', { viewer: mainViewer, sourceIpAddress: '10.7.3.1', before: key }, 'audit_history_account_ip_idx'],
    ['main, ResourceSid', { viewer: mainViewer, resourceSid: sub, ...range }, 'audit_history_resource_idx'],
    ['subaccount', { viewer: subViewer, after: key }, 'audit_history_resource_idx'],
    ['subaccount, EventType', { viewer: subViewer, eventType: 'account.updated' }, 'audit_history_resource_idx'],
  ])('%s: one index range in list order, no sort', async (_, request, index) => {
    captured.length = 0;
    await new AuditHistoryQueries(logged).list({ ...request, limit: 51 });
    expect(captured).toHaveLength(1);
    const query = captured[0];
    const { rows } = await t.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]);
    const all = nodes(rows[0]['QUERY PLAN'][0].Plan);
    const types = all.map((n) => n['Node Type']);
    expect(types).not.toContain('Sort');
    expect(types).not.toContain('Incremental Sort');
    expect(types).not.toContain('Seq Scan');
    expect(all.filter((n) => n['Index Name']).map((n) => n['Index Name'])).toEqual([index]);
    // Keyset cursors and date bounds are index conditions, not filters over the scanned rows.
    const cond = all.find((n) => n['Index Name'])!['Index Cond'] ?? '';
    if (request.after || request.before) expect(cond).toMatch(/ROW\(event_date, sid\) [<>]/);
    if (request.startDate) expect(cond).toMatch(/event_date >=/);
  });

  it('a fetch by sid is a primary-key lookup', async () => {
    captured.length = 0;
    await new AuditHistoryQueries(logged).find(mainViewer, key.sid);
    const query = captured[0];
    const { rows } = await t.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${query.sql}`, [...query.parameters]);
    expect(nodes(rows[0]['QUERY PLAN'][0].Plan).map((n) => n['Index Name']).filter(Boolean)).toEqual(['audit_history_pkey']);
  });
});
