import { hashLeaf } from './merkle-tree';

/**
 * An event exactly as stored: every column of `events` but the appending transaction's id
 * (an internal of PostgreSQL; the event's place in the log is its leaf index). Read raw — never
 * upcast — with `recorded_at` to the microsecond, as `STORED_EVENT_COLUMNS` selects it.
 */
export interface StoredEvent {
  global_position: number;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: unknown;
  metadata: unknown;
  /** UTC, microseconds: `2026-12-05T12:07:48.123456Z`. */
  recorded_at: string;
}

/**
 * The select list that reads a `StoredEvent` from `events` (unqualified, for raw SQL). jsonb goes
 * as text and is parsed here: a jsonb number then keeps its digits until canonicalisation.
 */
export const STORED_EVENT_COLUMNS = `global_position, stream_id, stream_version, event_id::text AS event_id, type, schema_version,
  data::text AS data, metadata::text AS metadata,
  to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at`;

/** A row as `STORED_EVENT_COLUMNS` returns it. */
export interface StoredEventRow extends Omit<StoredEvent, 'data' | 'metadata'> {
  data: string;
  metadata: string;
}

export function storedEventOf(row: StoredEventRow): StoredEvent {
  return {
    ...row,
    global_position: Number(row.global_position),
    stream_version: Number(row.stream_version),
    schema_version: Number(row.schema_version),
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
  };
}

/**
 * RFC 8785 JSON Canonicalization Scheme: no whitespace, object members sorted by the UTF-16 code
 * units of their names, strings escaped as ECMAScript's JSON.stringify does, numbers in
 * ECMAScript's shortest round-trip form. (The `canonicalize` package, RFC 8785's reference,
 * needs Node 22 and ESM; this is its whole algorithm.)
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JSON has no NaN or Infinity');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(',')}}`;
  }
  throw new TypeError(`not JSON: ${typeof value}`);
}

/** The canonical encoding of an event (README "The ledger"): RFC 8785 JSON of its stored fields, UTF-8. */
export function encodeEvent(event: StoredEvent): Buffer {
  return Buffer.from(
    canonicalJson({
      data: event.data,
      event_id: event.event_id,
      global_position: event.global_position,
      metadata: event.metadata,
      recorded_at: event.recorded_at,
      schema_version: event.schema_version,
      stream_id: event.stream_id,
      stream_version: event.stream_version,
      type: event.type,
    }),
    'utf8',
  );
}

/** The event's leaf in the tree: SHA-256(0x00 || encoding). */
export function eventLeafHash(event: StoredEvent): Buffer {
  return hashLeaf(encodeEvent(event));
}
