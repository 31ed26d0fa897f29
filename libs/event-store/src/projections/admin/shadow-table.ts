import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '@accountable/database';

/**
 * The catalog side of the blue-green rebuild: a shadow copy of a live table in a schema of the
 * rebuild's own, loaded with only the indexes the load needs, finished with the rest, and swapped
 * in for the live table. Everything the swap would change beyond the rows is either carried over
 * (owner, privileges, storage options, comment) or refused: `definitionOf` describes a table by
 * name in every respect a swap could alter, and `swapIn` replaces nothing unless the two
 * descriptions are equal.
 *
 * Each rebuild makes two schemas named for it alone, `rebuild_<projection>_<random>` for its
 * shadows and the same with `_retired` for the tables they replace, and drops nothing else: two
 * rebuilds can never take, empty or drop each other's tables (the fixed `rebuild` schema of
 * earlier versions let a second rebuild drop the first one's loaded shadow and a first one swap
 * in the second's empty one). A comment on each schema names its projection, so that the next
 * rebuild of that projection, holding its lock, can clear what a crashed one left.
 */

export const LIVE_SCHEMA = 'public';
/** The fixed schemas of earlier versions, cleared of a projection's tables like any leftover. */
const LEGACY_SCHEMAS = ['rebuild', 'rebuild_retired'];

type Executor = Kysely<Database>;

const regclass = (schema: string, table: string) => sql`format('%I.%I', ${schema}::text, ${table}::text)::regclass`;

export class ShadowMismatchError extends Error {
  override readonly name = 'ShadowMismatchError';
}

/** The table about to be swapped in is not the one this rebuild made and loaded. */
export class ShadowReplacedError extends Error {
  override readonly name = 'ShadowReplacedError';
}

/** One rebuild's schemas: `shadow` holds the tables it builds, `retired` receives the ones they replace. */
export interface ShadowSchemas {
  readonly shadow: string;
  readonly retired: string;
}

const schemaComment = (projection: string) => `accountable: rebuild of projection ${JSON.stringify(projection)}`;

/** Creates this rebuild's two schemas, empty, each marked with the projection's name (together or not at all). */
export async function createShadowSchemas(db: Executor, projection: string): Promise<ShadowSchemas> {
  // Readable in a listing; unique by the random part (identifiers stop at 63 bytes).
  const slug = projection.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 24);
  const shadow = `rebuild_${slug}_${randomBytes(6).toString('hex')}`;
  const schemas = { shadow, retired: `${shadow}_retired` };
  await db.transaction().execute(async (trx) => {
    for (const schema of [schemas.shadow, schemas.retired]) {
      await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(trx);
      await sql`COMMENT ON SCHEMA ${sql.id(schema)} IS ${sql.lit(schemaComment(projection))}`.execute(trx);
    }
  });
  return schemas;
}

/**
 * Drops the given tables from this rebuild's schemas, then the schemas. Plain DROPs (no CASCADE):
 * whatever else someone put there stays, and so does the schema holding it.
 */
export async function dropShadowSchemas(db: Executor, schemas: ShadowSchemas, tables: readonly string[]): Promise<void> {
  for (const schema of [schemas.shadow, schemas.retired]) {
    for (const table of tables) await sql`DROP TABLE IF EXISTS ${sql.id(schema, table)}`.execute(db);
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)}`.execute(db);
  }
}

/**
 * What earlier rebuilds of `projection` left behind when they died before their clean-up: their
 * marked schemas and the tables in them, and the projection's tables in the fixed schemas of
 * earlier versions. Only for a caller holding the projection's rebuild lock, which every rebuild
 * holds from before it creates anything until after it has dropped what it made: so none of this
 * belongs to a rebuild still running. A live table is never in these schemas (a swap moves it out
 * of the shadow schema in the transaction that moves it in). Returns the tables dropped.
 */
export async function dropLeftovers(db: Executor, projection: string, tables: readonly string[]): Promise<string[]> {
  const { rows } = await sql<{ schema: string; tables: string[] }>`
    SELECT n.nspname AS schema,
           coalesce(array_agg(c.relname::text ORDER BY c.relname) FILTER (WHERE c.relkind IN ('r', 'p')), '{}') AS tables
      FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
     WHERE obj_description(n.oid, 'pg_namespace') = ${schemaComment(projection)}
        OR (n.nspname = ANY(${LEGACY_SCHEMAS}::text[]) AND c.relname = ANY(${tables}::text[]))
     GROUP BY n.nspname
     ORDER BY n.nspname`.execute(db);
  const dropped: string[] = [];
  for (const { schema, tables: found } of rows) {
    for (const table of found) {
      await sql`DROP TABLE IF EXISTS ${sql.id(schema, table)}`.execute(db);
      dropped.push(`${schema}.${table}`);
    }
    if (!LEGACY_SCHEMAS.includes(schema)) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)}`.execute(db);
  }
  return dropped;
}

/** A shadow index left for after the load: its live name and the statement that creates it. */
export interface DeferredIndex {
  name: string;
  statement: string;
  /** For a key constraint's index: what makes it the constraint, once built. */
  constraint?: string;
}

/**
 * Creates `<schemas.shadow>.<table>` like the live table: columns, defaults, checks, not-nulls, storage
 * and comments (LIKE), the index-backed constraints and unique indexes (the load's ON CONFLICT
 * and its integrity need them) and the indexes named in `keep` (the ones the projection reads
 * through while it loads), each under its live name. Returns the statements that create the
 * other indexes: inserting into a B-tree on a random key costs several times what one sort after
 * the load does (measured: 150k audit rows, 6.5 s into six indexes against 1.1 s into the
 * primary key alone). With `deferKeys`, for a load that needs no ON CONFLICT, primary keys and
 * unique constraints are left for after too, each as its index and then `constraint` (USING
 * INDEX), which gives the same constraint; duplicates then fail the index build instead of the
 * load (measured: the audit SQL load 1.4 s against 2.0 s into the primary key).
 */
export async function createShadow(
  db: Executor,
  schemas: ShadowSchemas,
  table: string,
  keep: readonly string[],
  deferKeys = false,
): Promise<{ oid: number; deferred: DeferredIndex[] }> {
  await sql`CREATE TABLE ${sql.id(schemas.shadow, table)} (LIKE ${sql.id(LIVE_SCHEMA, table)} INCLUDING ALL EXCLUDING INDEXES)`.execute(db);
  const oid = (await oidOf(db, schemas.shadow, table))!;
  const { rows } = await sql<{
    name: string;
    definition: string;
    unique: boolean;
    constraint_definition: string | null;
    attach: string | null;
    live_ref: string;
    shadow_ref: string;
  }>`
    SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique,
           (SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
             WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x')) AS constraint_definition,
           (SELECT format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s USING INDEX %I', ${schemas.shadow}::text, ${table}::text, i.relname,
                          CASE c.contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, i.relname)
              FROM pg_constraint c
             -- USING INDEX makes no deferrable constraint.
             WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u') AND NOT c.condeferrable) AS attach,
           format(' ON %I.%I ', ${LIVE_SCHEMA}::text, ${table}::text) AS live_ref,
           format(' ON %I.%I ', ${schemas.shadow}::text, ${table}::text) AS shadow_ref
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = ${regclass(LIVE_SCHEMA, table)}
     ORDER BY i.relname`.execute(db);
  const unknown = keep.filter((name) => !rows.some((row) => row.name === name));
  if (unknown.length) throw new Error(`rebuild: ${table} has no index ${unknown.join(', ')}`);
  const deferred: DeferredIndex[] = [];
  for (const row of rows) {
    // pg_get_indexdef always qualifies the table: point the same definition at the shadow.
    const at = row.definition.indexOf(row.live_ref);
    if (at < 0) throw new Error(`rebuild: cannot read the definition of index ${row.name}: ${row.definition}`);
    const statement = row.definition.slice(0, at) + row.shadow_ref + row.definition.slice(at + row.live_ref.length);
    if (row.constraint_definition !== null) {
      if (deferKeys && row.attach !== null && !keep.includes(row.name)) {
        deferred.push({ name: row.name, statement, constraint: row.attach });
        continue;
      }
      // A constraint's index takes the constraint's name, which is the live one.
      await sql`ALTER TABLE ${sql.id(schemas.shadow, table)} ADD CONSTRAINT ${sql.id(row.name)} ${sql.raw(row.constraint_definition)}`.execute(db);
      continue;
    }
    if (row.unique || keep.includes(row.name)) await sql.raw(statement).execute(db);
    else deferred.push({ name: row.name, statement });
  }
  return { oid, deferred };
}

async function oidOf(db: Executor, schema: string, table: string): Promise<number | null> {
  const { rows } = await sql<{ oid: number | null }>`SELECT to_regclass(format('%I.%I', ${schema}::text, ${table}::text))::oid::bigint AS oid`.execute(db);
  return rows[0].oid === null ? null : Number(rows[0].oid);
}

/**
 * Gives the shadow the live table's owner, privileges (table and column, revoking first so that
 * the lists end equal, not merely inclusive), storage options and comment. Run under the
 * switch's lock, so that a GRANT made during the rebuild is not lost.
 */
async function copyProperties(trx: Executor, schemas: ShadowSchemas, table: string): Promise<void> {
  const { rows } = await sql<{ statement: string }>`
    WITH live AS (SELECT c.* FROM pg_class c WHERE c.oid = ${regclass(LIVE_SCHEMA, table)}),
    target AS (SELECT format('%I.%I', ${schemas.shadow}::text, ${table}::text) AS name),
    statements AS (
      SELECT 1 AS step, format('ALTER TABLE %s OWNER TO %s', target.name, live.relowner::regrole) AS statement FROM live, target
      UNION ALL
      SELECT 2, format('REVOKE ALL ON TABLE %s FROM %s', target.name, live.relowner::regrole) FROM live, target WHERE live.relacl IS NOT NULL
      UNION ALL
      SELECT 3, format('GRANT %s ON TABLE %s TO %s%s', a.privilege_type, target.name,
                       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                       CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM live, target, aclexplode(live.relacl) a
      UNION ALL
      SELECT 4, format('GRANT %s (%I) ON TABLE %s TO %s%s', a.privilege_type, att.attname, target.name,
                       CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                       CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM live, target, pg_attribute att, aclexplode(att.attacl) a
       WHERE att.attrelid = live.oid AND att.attnum > 0 AND NOT att.attisdropped
      UNION ALL
      SELECT 5, format('ALTER TABLE %s SET (%s)', target.name, array_to_string(live.reloptions, ', ')) FROM live, target WHERE live.reloptions IS NOT NULL
      UNION ALL
      SELECT 6, format('COMMENT ON TABLE %s IS %L', target.name, obj_description(live.oid, 'pg_class'))
        FROM live, target WHERE obj_description(live.oid, 'pg_class') IS NOT NULL
    )
    SELECT statement FROM statements ORDER BY step, statement`.execute(trx);
  for (const { statement } of rows) await sql.raw(statement).execute(trx);
}

/**
 * Everything a swap could change about `schema.table`, one line per item, with the table's own
 * schema left out: columns, constraints, indexes, triggers, policies, extended statistics, owned
 * sequences, owner, privileges, options, comment; and what lies outside it and points at it
 * (views, foreign keys, functions of its row type, publications, inheritance), which a swap
 * would leave pointing at the dropped table.
 */
async function definitionOf(db: Executor, schema: string, table: string): Promise<string[]> {
  const { rows } = await sql<{ item: string }>`
    WITH t AS (
      SELECT c.*, format(' ON %I.%I ', ${schema}::text, ${table}::text) AS ref FROM pg_class c WHERE c.oid = ${regclass(schema, table)}
    ), acl AS (SELECT a::text AS entry FROM t, unnest(coalesce(t.relacl, acldefault('r', t.relowner))) a)
    SELECT 'table ' || t.relkind::text || ' persistence ' || t.relpersistence::text || ' replica identity ' || t.relreplident::text
           || ' row security ' || t.relrowsecurity || '/' || t.relforcerowsecurity || ' owner ' || t.relowner::regrole
           || ' options ' || coalesce(array_to_string(t.reloptions, ','), '-')
           || ' comment ' || coalesce(quote_literal(obj_description(t.oid, 'pg_class')), '-') AS item
      FROM t
    UNION ALL
    SELECT 'privilege ' || entry FROM acl
    UNION ALL
    SELECT 'column ' || row_number() OVER (ORDER BY a.attnum) || ' ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
           || CASE a.attidentity WHEN '' THEN '' ELSE ' identity ' || a.attidentity::text END
           || CASE a.attgenerated WHEN '' THEN '' ELSE ' generated ' || a.attgenerated::text END
           || CASE WHEN a.attcollation <> 0 THEN ' collate ' || a.attcollation::regcollation ELSE '' END
           || ' storage ' || a.attstorage::text || ' compression ' || coalesce(nullif(a.attcompression::text, ''), '-')
           || ' statistics ' || coalesce(a.attstattarget::text, '-')
           || ' comment ' || coalesce(quote_literal(col_description(t.oid, a.attnum)), '-')
           || ' acl ' || coalesce((SELECT string_agg(x::text, ',' ORDER BY x::text) FROM unnest(a.attacl) x), '-')
      FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
           || CASE WHEN c.convalidated THEN '' ELSE ' not valid' END
      FROM t JOIN pg_constraint c ON c.conrelid = t.oid
    UNION ALL
    SELECT 'index ' || replace(pg_get_indexdef(x.indexrelid), t.ref, ' ON <table> ')
           || CASE WHEN x.indisclustered THEN ' clustered' ELSE '' END
           || CASE WHEN x.indisreplident THEN ' replica identity' ELSE '' END
           || CASE WHEN x.indisvalid THEN '' ELSE ' invalid' END
           || ' comment ' || coalesce(quote_literal(obj_description(x.indexrelid, 'pg_class')), '-')
      FROM t JOIN pg_index x ON x.indrelid = t.oid
    UNION ALL
    SELECT 'trigger ' || replace(pg_get_triggerdef(tg.oid), t.ref, ' ON <table> ') || ' enabled ' || tg.tgenabled::text
      FROM t JOIN pg_trigger tg ON tg.tgrelid = t.oid AND NOT tg.tgisinternal
    UNION ALL
    SELECT 'policy ' || quote_ident(p.polname) || ' ' || p.polcmd::text || ' ' || p.polpermissive || ' ' || p.polroles::text
           || ' using ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-') || ' check ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
      FROM t JOIN pg_policy p ON p.polrelid = t.oid
    UNION ALL
    SELECT 'statistics ' || quote_ident(s.stxname) || ' ' || s.stxkind::text || ' ' || s.stxkeys::text
      FROM t JOIN pg_statistic_ext s ON s.stxrelid = t.oid
    UNION ALL
    SELECT 'sequence ' || quote_ident(s.relname)
      FROM t JOIN pg_depend dep ON dep.refclassid = 'pg_class'::regclass AND dep.refobjid = t.oid AND dep.classid = 'pg_class'::regclass AND dep.deptype IN ('a', 'i')
      JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
    UNION ALL
    SELECT 'referenced by ' || pg_describe_object(dep.classid, dep.objid, dep.objsubid)
      FROM t JOIN pg_depend dep ON dep.deptype = 'n'
       AND (dep.refclassid, dep.refobjid) IN (('pg_class'::regclass, t.oid), ('pg_type'::regclass, t.reltype))
     -- The table's own objects, listed above, depend on it too.
     WHERE CASE dep.classid
             WHEN 'pg_constraint'::regclass THEN (SELECT conrelid FROM pg_constraint WHERE oid = dep.objid)
             WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = dep.objid)
             WHEN 'pg_class'::regclass THEN (SELECT indrelid FROM pg_index WHERE indexrelid = dep.objid)
             WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = dep.objid)
             WHEN 'pg_policy'::regclass THEN (SELECT polrelid FROM pg_policy WHERE oid = dep.objid)
             WHEN 'pg_statistic_ext'::regclass THEN (SELECT stxrelid FROM pg_statistic_ext WHERE oid = dep.objid)
           END IS DISTINCT FROM t.oid
    UNION ALL
    SELECT 'published in ' || quote_ident(p.pubname)
      FROM t JOIN pg_publication_rel r ON r.prrelid = t.oid JOIN pg_publication p ON p.oid = r.prpubid
    UNION ALL
    SELECT 'inherits ' || i.inhparent::regclass FROM t JOIN pg_inherits i ON i.inhrelid = t.oid
    UNION ALL
    SELECT 'inherited by ' || i.inhrelid::regclass FROM t JOIN pg_inherits i ON i.inhparent = t.oid
    ORDER BY 1`.execute(db);
  return rows.map((row) => row.item);
}

/**
 * Replaces the live table with its shadow. The caller holds ACCESS EXCLUSIVE on the live table
 * and commits right after. Refuses, changing nothing, when the table under the shadow's name is
 * not the one this rebuild created (`oid`: a name is no proof of what was loaded into it) or when
 * it differs from the live table in anything but its rows. The replaced table goes to the
 * rebuild's retired schema (the shadow holds its names in its own), for `dropShadowSchemas` after
 * the commit: dropping it here would unlink its files at commit, under the lock (measured
 * 80-105 ms for the 150k-row audit table).
 */
export async function swapIn(trx: Executor, schemas: ShadowSchemas, table: string, oid: number): Promise<void> {
  // Locked before it is looked at, so that it stays what was checked until the commit.
  await sql`LOCK TABLE ${sql.id(schemas.shadow, table)} IN ACCESS EXCLUSIVE MODE`.execute(trx);
  const found = await oidOf(trx, schemas.shadow, table);
  if (found !== oid) {
    throw new ShadowReplacedError(`rebuild: ${schemas.shadow}.${table} is not the table this rebuild created and loaded (oid ${found}, expected ${oid}); nothing was switched`);
  }
  await copyProperties(trx, schemas, table);
  const [live, shadow] = [await definitionOf(trx, LIVE_SCHEMA, table), await definitionOf(trx, schemas.shadow, table)];
  const missing = live.filter((item) => !shadow.includes(item));
  const extra = shadow.filter((item) => !live.includes(item));
  if (missing.length || extra.length) {
    throw new ShadowMismatchError(
      `rebuild: the rebuilt ${table} would not be the live one; live only: ${missing.join('; ') || '-'}; rebuilt only: ${extra.join('; ') || '-'}`,
    );
  }
  await sql`ALTER TABLE ${sql.id(LIVE_SCHEMA, table)} SET SCHEMA ${sql.id(schemas.retired)}`.execute(trx);
  await sql`ALTER TABLE ${sql.id(schemas.shadow, table)} SET SCHEMA ${sql.id(LIVE_SCHEMA)}`.execute(trx);
}
