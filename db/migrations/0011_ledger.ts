import { Kysely, sql } from 'kysely';

// Frozen: never edit a migration that has shipped; add a new one.

/**
 * The tamper-evident ledger (libs/ledger): an RFC 9162 Merkle tree over the event log in feed
 * order, and its signed heads.
 *
 * `ledger_leaves`: one row per event, in tree order (`leaf_index` 0, 1, …). `hashes` is the
 * event's leaf hash followed by the hash of every perfect subtree that this leaf completes, level
 * by level (32 bytes each): the subtree of 2^j leaves ending at leaf i exists when the j lowest
 * bits of i are set. Every inclusion and consistency proof is made of such subtrees, so a proof
 * reads O(log n) rows, and one row per event is all the tree costs. Rebuilt by the ledger
 * projection like any read model.
 *
 * `ledger_heads`: signed tree heads. Evidence, not a read model: a rebuild checks them and never
 * empties or re-signs them. The signing key is not in the database.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ledger_leaves (
      leaf_index      bigint PRIMARY KEY CHECK (leaf_index >= 0),
      global_position bigint NOT NULL UNIQUE,
      hashes          bytea NOT NULL CHECK (octet_length(hashes) % 32 = 0 AND octet_length(hashes) >= 32)
    )`.execute(db);
  await sql`
    CREATE TABLE ledger_heads (
      tree_size    bigint PRIMARY KEY CHECK (tree_size > 0),
      root_hash    bytea NOT NULL CHECK (octet_length(root_hash) = 32),
      timestamp_ms bigint NOT NULL,
      key_id       text NOT NULL,
      public_key   bytea NOT NULL CHECK (octet_length(public_key) = 32),
      signature    bytea NOT NULL CHECK (octet_length(signature) = 64)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ledger_heads`.execute(db);
  await sql`DROP TABLE IF EXISTS ledger_leaves`.execute(db);
}
