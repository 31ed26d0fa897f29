import { hashLeafText } from './merkle-tree';

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
  // Field by field, not a spread: `ledger verify` makes one per event.
  return {
    global_position: Number(row.global_position),
    stream_id: row.stream_id,
    stream_version: Number(row.stream_version),
    event_id: row.event_id,
    type: row.type,
    schema_version: Number(row.schema_version),
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    recorded_at: row.recorded_at,
  };
}

/**
 * RFC 8785 JSON Canonicalization Scheme: no whitespace, object members sorted by the UTF-16 code
 * units of their names, strings escaped as ECMAScript's JSON.stringify does, numbers in
 * ECMAScript's shortest round-trip form. (The `canonicalize` package, RFC 8785's reference,
 * needs Node 22 and ESM; this is its whole algorithm.)
 */
export function canonicalJson(value: unknown): string {
  // Loops and string concatenation rather than map/join: `ledger verify` runs this for every
  // event, and the arrays map/join allocate were most of its garbage.
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let text = '[';
        for (let i = 0; i < value.length; i++) text += (i === 0 ? '' : ',') + canonicalJson(value[i]);
        return `${text}]`;
      }
      const keys = Object.keys(value);
      if (keys.length > 1) keys.sort();
      let text = '{';
      for (let i = 0; i < keys.length; i++) text += `${i === 0 ? '' : ','}${JSON.stringify(keys[i])}:${canonicalJson((value as Record<string, unknown>)[keys[i]])}`;
      return `${text}}`;
    }
    default:
      throw new TypeError(`not JSON: ${typeof value}`);
  }
}

/**
 * The canonical encoding of an event as text: RFC 8785 JSON of its stored fields (README "The
 * ledger"). The nine members are written in their sorted order here instead of sorting an object
 * built for the purpose — the same text (tree-head.spec.ts checks it against `canonicalJson`).
 */
export function encodeEventText(event: StoredEvent): string {
  return (
    `{"data":${canonicalJson(event.data)},"event_id":${canonicalJson(event.event_id)},"global_position":${canonicalJson(event.global_position)}` +
    `,"metadata":${canonicalJson(event.metadata)},"recorded_at":${canonicalJson(event.recorded_at)},"schema_version":${canonicalJson(event.schema_version)}` +
    `,"stream_id":${canonicalJson(event.stream_id)},"stream_version":${canonicalJson(event.stream_version)},"type":${canonicalJson(event.type)}}`
  );
}

/** The canonical encoding of an event, UTF-8. */
export function encodeEvent(event: StoredEvent): Buffer {
  return Buffer.from(encodeEventText(event), 'utf8');
}

/** The event's leaf in the tree: SHA-256(0x00 || encoding). */
export function eventLeafHash(event: StoredEvent): Buffer {
  return hashLeafText(encodeEventText(event));
}
