import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createKysely, createPool } from '@accountable/database';
import { Frontier, HeadSigner, STORED_EVENT_COLUMNS, eventLeafHash, storedEventOf, type StoredEventRow } from '@accountable/ledger';
import { runCli, startService, type ServiceProcess } from '../support/processes';
import { referenceLeaves, referenceRoot, referenceSignatureHolds } from '../support/ledger-reference';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { send, waitUntil, type Credentials } from './support/http';
import { SEED, byProfile, random } from './support/profile';
import { recordResult } from './support/results';

/** Writes through the service between kept heads; heads kept after each round. */
const ROUNDS = byProfile({ ci: 4, full: 10 });
const WRITES_PER_ROUND = byProfile({ ci: 6, full: 40 });

interface VerifyJson {
  ok: boolean;
  events: number;
  first_difference: { from: number; to: number; global_position: number | null; event_id: string | null; reason: string } | null;
  given_heads: { file: string; tree_size: number; ok: boolean; reason: string }[];
  problems: string[];
}

/**
 * R11 "Tamper": a superuser with the log's trigger off (`session_replication_role = replica`)
 * changes one byte of an event, deletes one, inserts a forged one in the past, swaps two, and
 * rewrites the whole log with every hash, tree node and head recomputed (signed with a key of
 * their own: the ledger's is not in the database). Each on a copy of the same log; `ledger
 * verify` against the heads an auditor kept before must exit 1 and name the position (the last
 * case: the range between the kept heads around it). Before that, nothing false: the untouched
 * log verifies after a crash (SIGKILL mid-load), a restart and a rebuild, and its heads match
 * an outsider's recomputation (test/support/ledger-reference.ts).
 */
describe('R11 tamper', () => {
  let database: TestDatabase;
  let dataDir: string;
  let service: ServiceProcess | undefined;
  const copies: string[] = [];
  const admin = () => {
    const client = new pg.Client({ connectionString: process.env.ACCOUNTABLE_TEST_ADMIN_URL });
    client.on('error', () => undefined);
    return client;
  };
  const urlOf = (name: string) => {
    const u = new URL(database.url);
    u.pathname = `/${name}`;
    return u.toString();
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'accountable-tamper-'));
  });
  afterAll(async () => {
    await service?.stop('SIGTERM', 10_000);
    const a = admin();
    await a.connect();
    for (const name of copies) await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await a.end();
    await database.destroy();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('every tampering is found by ledger verify against heads kept before, naming the position; nothing false on an untouched log after a crash, a restart and a rebuild', async () => {
    const rand = random(SEED);
    const figures: Record<string, number | string> = { rounds: ROUNDS, 'writes/round': WRITES_PER_ROUND, 'heads kept': 0, events: 0, tamperings: 0, detected: 0, 'clean verifications': 0, seed: SEED };
    let held = '';
    try {
      const env = { DATABASE_URL: database.url, ENCRYPTION_KEY: randomBytes(32).toString('hex'), DATA_DIR: dataDir, PROJECTION_POLL_MS: '100' };
      const cli = (args: string[], url = database.url) => runCli(args, { ...env, DATABASE_URL: url });
      const created = await cli(['create-main', '--friendly-name', 'Audited', '--type', 'Full', '--json']);
      expect(created.code).toBe(0);
      const main: Credentials = { sid: JSON.parse(created.stdout).sid, authToken: JSON.parse(created.stdout).auth_token };
      const start = async () => {
        service = startService(env);
        return (await service.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1];
      };
      let baseUrl = await start();
      const query = async <T>(text: string, values: unknown[] = [], url = database.url) => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        try {
          return (await c.query(text, values)).rows as T[];
        } finally {
          await c.end();
        }
      };
      const ledgerCaughtUp = async () =>
        (
          await query<{ behind: boolean }>(`
            SELECT coalesce((SELECT (c.transaction_id, c.global_position) < (e.transaction_id, e.global_position)
                               FROM projection_checkpoints c WHERE c.name = 'ledger'), true) AS behind
              FROM (SELECT transaction_id, global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) e`)
        )[0]?.behind === false;
      const subs: string[] = [];
      const write = async () => {
        if (subs.length === 0 || rand() < 0.3) {
          const o = await send(baseUrl, '/2010-04-01/Accounts.json', { as: main, body: { FriendlyName: `sub ${subs.length}` } });
          if (o.kind === 'response' && o.status === 201) subs.push(o.json.sid);
          return;
        }
        const sid = subs[Math.floor(rand() * subs.length)];
        await send(baseUrl, `/2010-04-01/Accounts/${sid}.json`, { as: main, body: { FriendlyName: `name ${Math.floor(rand() * 1e6)}` } });
      };
      const keptHeads: { file: string; size: number }[] = [];
      const keepHead = async () => {
        await waitUntil('the ledger has caught up', ledgerCaughtUp, 30_000);
        const head = await cli(['ledger', 'head', '--json']);
        expect(head.code).toBe(0);
        const json = JSON.parse(head.stdout);
        expect(referenceSignatureHolds(json)).toBe(true);
        const file = path.join(dataDir, `head-${json.tree_size}.json`);
        await writeFile(file, head.stdout);
        if (!keptHeads.some((h) => h.size === json.tree_size)) keptHeads.push({ file, size: json.tree_size });
      };
      const verify = async (url = database.url): Promise<{ code: number | null; report: VerifyJson }> => {
        const result = await cli(['ledger', 'verify', '--json', ...keptHeads.flatMap((h) => ['--head', h.file])], url);
        return { code: result.code, report: JSON.parse(result.stdout) };
      };
      const expectClean = async (when: string) => {
        const { code, report } = await verify();
        if (code !== 0 || !report.ok) throw new Error(`a false alarm ${when}: ${JSON.stringify(report.problems)}`);
        figures['clean verifications'] = Number(figures['clean verifications']) + 1;
      };

      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < WRITES_PER_ROUND; i++) await write();
        await keepHead();
        if (round === Math.floor(ROUNDS / 2)) {
          // A crash in the middle of writes: SIGKILL with requests in flight, then a restart.
          const inFlight = Array.from({ length: 4 }, () => write().catch(() => undefined));
          await service!.stop('SIGKILL');
          await Promise.all(inFlight);
          baseUrl = await start();
          await expectClean('after a crash and a restart');
        }
      }
      await waitUntil('the ledger has caught up', ledgerCaughtUp, 30_000);
      await expectClean('on the untouched log');
      const rebuilt = await cli(['projections', 'rebuild', 'ledger', '--batch-size', String(1 + Math.floor(rand() * 7)), '--json']);
      expect(rebuilt.code).toBe(0);
      await expectClean('after a rebuild');
      await service!.stop('SIGTERM', 10_000);
      service = undefined;
      await expectClean('after a clean stop');

      // The heads the ledger signed are those an outsider computes from the log.
      // On a pool of its own, closed at once: a database is copied only while nobody is connected to it.
      const own = createKysely(createPool(database.url, { max: 1 }));
      const reference = await referenceLeaves(own).finally(() => own.destroy());
      const last = keptHeads[keptHeads.length - 1];
      expect(referenceRoot(reference.slice(0, last.size).map((e) => e.leaf)).toString('hex')).toBe(
        JSON.parse(await readFile(last.file, 'utf8')).root_hash,
      );
      figures.events = reference.length;
      figures['heads kept'] = keptHeads.length;

      // Each tampering on its own copy of the log, as a superuser with the trigger off.
      const inFeedOrder = await query<{ index: number; global_position: number; tx: string; event_id: string; name: string | null }>(
        `SELECT (row_number() OVER (ORDER BY transaction_id, global_position) - 1)::int AS index, global_position::float8 AS global_position, transaction_id::text AS tx, event_id::text AS event_id,
                data->>'friendlyName' AS name
           FROM events ORDER BY transaction_id, global_position`,
      );
      const covered = last.size;
      const pick = (filter: (e: (typeof inFeedOrder)[number]) => boolean = () => true) => {
        const candidates = inFeedOrder.filter((e) => e.index > 0 && e.index < covered - 1 && filter(e));
        return candidates[Math.floor(rand() * candidates.length)];
      };
      const tamper = async (what: string, statements: (db: pg.Client) => Promise<void>, expectPosition: (report: VerifyJson) => void) => {
        const name = `${database.name}_t${copies.length}`;
        copies.push(name);
        const a = admin();
        await a.connect();
        await a.query(`CREATE DATABASE ${name} TEMPLATE ${database.name}`);
        await a.end();
        const url = urlOf(name);
        const db = new pg.Client({ connectionString: url });
        await db.connect();
        try {
          await db.query('SET session_replication_role = replica');
          await statements(db);
        } finally {
          await db.end();
        }
        figures.tamperings = Number(figures.tamperings) + 1;
        const { code, report } = await verify(url);
        if (code !== 1 || report.ok) throw new Error(`${what}: NOT detected (${JSON.stringify(report)})`);
        expect(report.first_difference).not.toBeNull();
        expectPosition(report);
        figures.detected = Number(figures.detected) + 1;
        return report;
      };

      const changed = pick((e) => e.name !== null);
      await tamper(
        'one byte of an event changed',
        async (db) => {
          const first = changed.name!.charAt(0);
          await db.query(`UPDATE events SET data = jsonb_set(data, '{friendlyName}', to_jsonb($2::text)) WHERE global_position = $1`, [
            changed.global_position,
            `${first === 'x' ? 'y' : 'x'}${changed.name!.slice(1)}`,
          ]);
        },
        (r) => expect(r.first_difference).toMatchObject({ from: changed.index, to: changed.index, global_position: changed.global_position, event_id: changed.event_id }),
      );

      const deleted = pick();
      await tamper(
        'an event deleted',
        async (db) => void (await db.query('DELETE FROM events WHERE global_position = $1', [deleted.global_position])),
        (r) => expect(r.first_difference).toMatchObject({ from: deleted.index, to: deleted.index }),
      );

      // The forged event goes after every event of `before`'s transaction: some leaf must follow
      // there, else it lands past the ledger's last leaf, where a log may hold events the
      // projection has not applied yet (seed 1210022487 picked the last transaction: not detected).
      const lastOfTransaction = new Map(inFeedOrder.map((e) => [e.tx, e.index]));
      const before = pick((e) => lastOfTransaction.get(e.tx)! + 1 < covered);
      let forgedIndex = -1;
      await tamper(
        'a forged event inserted in the past',
        async (db) => {
          // Into the transaction of an old event: the feed (transaction, position) puts it among old events.
          const { rows } = await db.query(
            `INSERT INTO events (global_position, transaction_id, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
               OVERRIDING SYSTEM VALUE
             SELECT (SELECT max(global_position) + 1000 FROM events), transaction_id, 'account-AC' || md5('forged'), 1, gen_random_uuid(), 'MainAccountCreated', 1,
                    '{"friendlyName": "forged"}', metadata, recorded_at
               FROM events WHERE global_position = $1
             RETURNING (SELECT count(*) FROM events e WHERE (e.transaction_id, e.global_position) < (events.transaction_id, events.global_position))::int AS index`,
            [before.global_position],
          );
          forgedIndex = rows[0].index;
        },
        (r) => expect(r.first_difference).toMatchObject({ from: forgedIndex, to: forgedIndex }),
      );

      const [x, y] = [pick(), pick()].sort((p, q) => p.index - q.index);
      const other = x.index === y.index ? inFeedOrder[x.index + 1] : y;
      await tamper(
        'two events swapped',
        async (db) => {
          // Their places (transaction id and global position) exchanged, all else kept.
          await db.query(
            `WITH gone AS (DELETE FROM events WHERE global_position IN ($1, $2) RETURNING *)
             INSERT INTO events (global_position, transaction_id, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at)
               OVERRIDING SYSTEM VALUE
             SELECT o.global_position, o.transaction_id, g.stream_id, g.stream_version, g.event_id, g.type, g.schema_version, g.data, g.metadata, g.recorded_at
               FROM gone g JOIN gone o ON o.global_position <> g.global_position`,
            [x.global_position, other.global_position],
          );
        },
        (r) => expect(r.first_difference).toMatchObject({ from: x.index, to: x.index }),
      );

      const rewritten = pick((e) => e.name !== null);
      const holding = Math.max(0, ...keptHeads.filter((h) => h.size <= rewritten.index).map((h) => h.size));
      const failing = Math.min(...keptHeads.filter((h) => h.size > rewritten.index).map((h) => h.size));
      for (const variant of ['stored heads left in place', 'stored heads replaced by ones signed with another key'] as const) {
        const report = await tamper(
          `the whole log rewritten, every hash and tree node recomputed (${variant})`,
          async (db) => {
            await db.query(`UPDATE events SET data = jsonb_set(data, '{friendlyName}', '"rewritten"') WHERE global_position = $1`, [rewritten.global_position]);
            // The attacker recomputes the tree with the ledger's own code, as the README specifies it.
            const { rows } = await db.query<StoredEventRow>(`SELECT ${STORED_EVENT_COLUMNS} FROM events ORDER BY transaction_id, global_position`);
            const frontier = new Frontier();
            const leaves = rows.map((row) => ({ position: Number(row.global_position), hashes: Buffer.concat(frontier.append(eventLeafHash(storedEventOf(row)))).toString('hex') }));
            await db.query('DELETE FROM ledger_leaves');
            await db.query(
              `INSERT INTO ledger_leaves (leaf_index, global_position, hashes) SELECT i - 1, p, decode(h, 'hex') FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS r(p, h, i)`,
              [leaves.map((l) => l.position), leaves.map((l) => l.hashes)],
            );
            if (variant === 'stored heads replaced by ones signed with another key') {
              const head = new HeadSigner(randomBytes(32)).sign(frontier.size, frontier.root());
              await db.query('DELETE FROM ledger_heads');
              await db.query('INSERT INTO ledger_heads (tree_size, root_hash, timestamp_ms, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6)', [
                head.treeSize,
                head.rootHash,
                head.timestamp,
                head.keyId,
                head.publicKey,
                head.signature,
              ]);
            }
          },
          (r) => {
            // No leaf differs from the stored tree any more: only heads can place the change, between those that hold and those that do not.
            expect(r.first_difference).toMatchObject({ global_position: null });
            expect(r.first_difference!.from).toBeLessThanOrEqual(rewritten.index);
            expect(r.first_difference!.to).toBeGreaterThanOrEqual(rewritten.index);
            expect(r.first_difference!.from).toBeGreaterThanOrEqual(holding);
            expect(r.first_difference!.to).toBeLessThanOrEqual(failing - 1);
            for (const h of keptHeads) expect(r.given_heads.find((g) => g.file === h.file)?.ok).toBe(h.size <= rewritten.index);
          },
        );
        if (variant === 'stored heads replaced by ones signed with another key') {
          expect(report.first_difference).toMatchObject({ from: holding, to: failing - 1 });
          expect(report.problems.join('\n')).toMatch(/signed by key \w+, not by this ledger's key/);
        }
      }
      held = 'each tampering detected by ledger verify, naming the position (the rewrite: between the kept heads around it); no false alarm after a crash, restart, rebuild';
    } finally {
      recordResult({ item: 12, title: 'Tamper (ledger, R11)', figures, held });
    }
  }, byProfile({ ci: 240_000, full: 600_000 }));
});
