import { encodeEventText, type StoredEvent } from './event-encoding';
import { sha256Of } from './merkle-tree';

/**
 * The columns of `events`, in this order, that `BinaryEventEncoder` reads from a binary COPY
 * (unqualified, for raw SQL): the feed's key first, then the stored event as `StoredEvent` has it.
 */
export const COPY_EVENT_COLUMNS = 'transaction_id, global_position, stream_id, stream_version, event_id, type, schema_version, data, metadata, recorded_at';
const FIELDS = 10;

/** Thrown inside the fast path when a value needs more than copying (rare): the row then takes the general path. */
const GENERAL = Symbol('general path');

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** Lower-case hex digits, as bytes. */
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01, in days. */
const PG_EPOCH_DAYS = 10_957;
const DAY_US = 86_400_000_000;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

const ascii = (text: string) => Buffer.from(text, 'latin1');
const OPEN = ascii('\u0000{"data":');
const EVENT_ID = ascii(',"event_id":"');
const GLOBAL_POSITION = ascii('","global_position":');
const METADATA = ascii(',"metadata":');
const RECORDED_AT = ascii(',"recorded_at":');
const SCHEMA_VERSION = ascii(',"schema_version":');
const STREAM_ID = ascii(',"stream_id":');
const STREAM_VERSION = ascii(',"stream_version":');
const TYPE = ascii(',"type":');

/**
 * The ledger's leaf hash of an event read as a binary COPY tuple (`COPY_EVENT_COLUMNS`):
 * SHA-256(0x00 || the canonical encoding), the very bytes `eventLeafHash(storedEventOf(row))`
 * hashes (README "The ledger"), written straight from the tuple's bytes — no UTF-8 decoding, no
 * JSON.parse, no object per event. `ledger verify`'s per-event work.
 *
 * PostgreSQL sends text and jsonb as UTF-8 (the client encoding), jsonb as its text form (keys
 * ordered by length, then bytes; `": "` and `", "` between tokens). The fast path rewrites that
 * text in RFC 8785 form: members sorted, whitespace dropped, and everything else copied — which is
 * exact only for what it checks: object keys of printable ASCII without escapes (so that byte
 * order is UTF-16 order), strings without a backslash or a control character (their JSON text is
 * then the UTF-8 of their value, as JSON.stringify writes it), integers of at most 15 digits
 * (numbers in shortest form are those digits). Any other number is rewritten as
 * JSON.parse + JCS would (`Number`, then ECMAScript's form); a row with any other key or string
 * takes the general path: decoded into a `StoredEvent` and encoded by `encodeEventText`, the one
 * definition (binary-event-encoder.int.spec.ts compares the two over every kind of value).
 */
export class BinaryEventEncoder {
  private out = Buffer.alloc(64 * 1024);
  private pos = 0;
  /** The last tuple's global position, and its transaction id as two 32-bit halves (the feed's key). */
  globalPosition = 0;
  txHi = 0;
  txLo = 0;
  private tuple: Buffer = Buffer.alloc(0);
  private txAt = 0;
  private eventIdAt = 0;
  /** Rows that took the general path (a count, for tests and profiles). */
  generalRows = 0;
  private day = Number.NaN;
  private dayPrefix = '';
  private dayBytes = Buffer.alloc(10);
  private readonly starts = new Int32Array(FIELDS);
  private readonly ends = new Int32Array(FIELDS);
  /** Objects' members being sorted, three ints each (key start, key end, value start); nested objects stack above. */
  private members = new Int32Array(3 * 256);
  private top = 0;

  /** The leaf hash of `tuple`; `globalPosition`, `eventId()` and `transactionId()` then describe it. */
  leafHash(tuple: Buffer): Buffer {
    this.tuple = tuple;
    if (tuple.readInt16BE(0) !== FIELDS) throw new Error(`ledger: a COPY row of ${tuple.readInt16BE(0)} fields, not ${FIELDS}`);
    // Field offsets: each is an int32 length, then the bytes.
    let at = 2;
    const { starts, ends } = this;
    for (let f = 0; f < FIELDS; f++) {
      const length = tuple.readInt32BE(at);
      at += 4;
      starts[f] = at;
      ends[f] = length < 0 ? -1 : at + length;
      if (length > 0) at += length;
    }
    for (let f = 0; f < FIELDS; f++) if (ends[f] < 0) throw new Error(`ledger: a NULL in column ${f} of events`);
    this.txAt = starts[0];
    this.txHi = tuple.readUInt32BE(starts[0]);
    this.txLo = tuple.readUInt32BE(starts[0] + 4);
    this.eventIdAt = starts[4];
    this.globalPosition = readInt64(tuple, starts[1]);
    if (tuple[starts[7]] !== 1 || tuple[starts[8]] !== 1) throw new Error('ledger: a jsonb of an unknown binary version');
    try {
      this.pos = 0;
      this.top = 0;
      this.write(OPEN);
      this.json(tuple, starts[7] + 1, ends[7]);
      this.write(EVENT_ID);
      this.writeUuid(tuple, this.eventIdAt);
      this.write(GLOBAL_POSITION);
      this.writeInteger(this.globalPosition);
      this.write(METADATA);
      this.json(tuple, starts[8] + 1, ends[8]);
      this.write(RECORDED_AT);
      this.writeTimestamp(tuple, starts[9]);
      this.write(SCHEMA_VERSION);
      this.writeInteger(tuple.readInt32BE(starts[6]));
      this.write(STREAM_ID);
      this.plainString(tuple, starts[2], ends[2]);
      this.write(STREAM_VERSION);
      this.writeInteger(readInt64(tuple, starts[3]));
      this.write(TYPE);
      this.plainString(tuple, starts[5], ends[5]);
      this.ensure(1);
      this.out[this.pos++] = 0x7d;
      return sha256Of(this.out.subarray(0, this.pos));
    } catch (error) {
      if (error !== GENERAL) throw error;
      this.generalRows += 1;
      return sha256Of(`\u0000${encodeEventText(this.storedEvent(tuple, starts, ends))}`);
    }
  }

  /** The last tuple's event id, lower-case UUID text. */
  eventId(): string {
    return uuidText(this.tuple, this.eventIdAt);
  }

  /** The last tuple's transaction id (xid8), as decimal text. */
  transactionId(): string {
    return this.tuple.readBigUInt64BE(this.txAt).toString();
  }

  /** The event as `storedEventOf` makes it from the text columns. */
  private storedEvent(tuple: Buffer, starts: Int32Array, ends: Int32Array): StoredEvent {
    return {
      global_position: this.globalPosition,
      stream_id: tuple.toString('utf8', starts[2], ends[2]),
      stream_version: readInt64(tuple, starts[3]),
      event_id: this.eventId(),
      type: tuple.toString('utf8', starts[5], ends[5]),
      schema_version: tuple.readInt32BE(starts[6]),
      data: JSON.parse(tuple.toString('utf8', starts[7] + 1, ends[7])),
      metadata: JSON.parse(tuple.toString('utf8', starts[8] + 1, ends[8])),
      recorded_at: this.timestamp(tuple, starts[9]) as string,
    };
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.out.length) return;
    const bigger = Buffer.alloc(Math.max(this.out.length * 2, this.pos + bytes));
    this.out.copy(bigger, 0, 0, this.pos);
    this.out = bigger;
  }

  private write(bytes: Buffer): void {
    this.copy(bytes, 0, bytes.length);
  }

  private copy(source: Buffer, start: number, end: number): void {
    const length = end - start;
    this.ensure(length);
    const out = this.out;
    // A loop beats Buffer#copy's call for the short runs that are most of an event.
    if (length < 48) for (let i = start, o = this.pos; i < end; i++, o++) out[o] = source[i];
    else source.copy(out, this.pos, start, end);
    this.pos += length;
  }

  /** An integer's JSON text, as String() writes it. */
  private writeInteger(n: number): void {
    if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Number.isInteger(n))) return this.writeAscii(String(n));
    let digits = 1;
    for (let p = 10; p <= n; p *= 10) digits++;
    this.ensure(digits);
    for (let o = this.pos + digits - 1; o >= this.pos; o--) {
      const q = Math.floor(n / 10);
      this.out[o] = 0x30 + (n - q * 10);
      n = q;
    }
    this.pos += digits;
  }

  /** The uuid at `at` as `uuidText` writes it, straight into the output (no string per event). */
  private writeUuid(source: Buffer, at: number): void {
    this.ensure(36);
    const out = this.out;
    let o = this.pos;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out[o++] = 0x2d;
      const b = source[at + i];
      out[o++] = HEX_DIGITS[b >> 4];
      out[o++] = HEX_DIGITS[b & 15];
    }
    this.pos = o;
  }

  /** `n` as `width` digits, zero-padded (0 ≤ n < 10^width). */
  private writePadded(n: number, width: number): void {
    for (let o = this.pos + width - 1; o >= this.pos; o--) {
      const q = Math.floor(n / 10);
      this.out[o] = 0x30 + (n - q * 10);
      n = q;
    }
    this.pos += width;
  }

  /** `recorded_at` as a JSON string (see `timestamp`), written in place. */
  private writeTimestamp(tuple: Buffer, at: number): void {
    const hi = tuple.readInt32BE(at);
    if (Math.abs(hi) >= 0x200000) {
      const text = this.timestamp(tuple, at);
      return this.writeAscii(text === null ? 'null' : `"${text}"`);
    }
    const us = hi * 0x100000000 + tuple.readUInt32BE(at + 4);
    const days = Math.floor(us / DAY_US);
    const inDay = us - days * DAY_US;
    if (days !== this.day) this.setDay(days);
    const seconds = Math.floor(inDay / 1_000_000);
    this.ensure(29);
    this.out[this.pos++] = 0x22;
    if (this.dayPrefix.length === 10) {
      this.dayBytes.copy(this.out, this.pos);
      this.pos += 10;
    } else this.writeAscii(this.dayPrefix);
    this.ensure(18);
    this.out[this.pos++] = 0x54;
    this.writePadded(Math.floor(seconds / 3600), 2);
    this.out[this.pos++] = 0x3a;
    this.writePadded(Math.floor((seconds % 3600) / 60), 2);
    this.out[this.pos++] = 0x3a;
    this.writePadded(seconds % 60, 2);
    this.out[this.pos++] = 0x2e;
    this.writePadded(inDay - seconds * 1_000_000, 6);
    this.out[this.pos++] = 0x5a;
    this.out[this.pos++] = 0x22;
  }

  private setDay(days: number): void {
    this.day = days;
    this.dayPrefix = civilDate(days + PG_EPOCH_DAYS);
    if (this.dayPrefix.length === 10) this.dayBytes.write(this.dayPrefix, 'latin1');
  }

  private writeAscii(text: string): void {
    this.ensure(text.length);
    for (let i = 0; i < text.length; i++) this.out[this.pos++] = text.charCodeAt(i);
  }

  /** A text column as a JSON string, when that is quotes around its bytes. */
  private plainString(source: Buffer, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const b = source[i];
      if (b < 0x20 || b === 0x22 || b === 0x5c) throw GENERAL;
    }
    this.ensure(2);
    this.out[this.pos++] = 0x22;
    this.copy(source, start, end);
    this.ensure(1);
    this.out[this.pos++] = 0x22;
  }

  /** Writes the JCS form of jsonb text `source[start, end)`. */
  private json(source: Buffer, start: number, end: number): void {
    const after = skipSpace(source, this.value(source, start), end);
    if (after !== end) throw new Error('ledger: unexpected jsonb text');
  }

  /** Writes the JCS form of the JSON value at `i`; returns where it ends. */
  private value(source: Buffer, i: number): number {
    i = skipSpace(source, i, source.length);
    const c = source[i];
    if (c === 0x7b) return this.object(source, i);
    if (c === 0x5b) return this.array(source, i);
    if (c === 0x22) {
      const end = stringEnd(source, i, true);
      this.copy(source, i, end);
      return end;
    }
    const end = scalarEnd(source, i);
    if (c === 0x74 || c === 0x66 || c === 0x6e) {
      // true, false, null
      this.copy(source, i, end);
      return end;
    }
    if (plainInteger(source, i, end)) this.copy(source, i, end);
    else {
      // As JSON.parse then canonicalJson: the nearest double in ECMAScript's form (beyond a double's range canonicalJson refuses it).
      const n = Number(source.toString('latin1', i, end));
      if (!Number.isFinite(n)) throw GENERAL;
      this.writeAscii(JSON.stringify(n));
    }
    return end;
  }

  private array(source: Buffer, i: number): number {
    this.ensure(1);
    this.out[this.pos++] = 0x5b;
    i = skipSpace(source, i + 1, source.length);
    if (source[i] === 0x5d) {
      this.ensure(1);
      this.out[this.pos++] = 0x5d;
      return i + 1;
    }
    for (;;) {
      i = skipSpace(source, this.value(source, i), source.length);
      this.ensure(1);
      if (source[i] === 0x2c) {
        this.out[this.pos++] = 0x2c;
        i += 1;
      } else if (source[i] === 0x5d) {
        this.out[this.pos++] = 0x5d;
        return i + 1;
      } else throw new Error('ledger: unexpected jsonb text');
    }
  }

  private object(source: Buffer, i: number): number {
    const base = this.top;
    i = skipSpace(source, i + 1, source.length);
    if (source[i] !== 0x7d) {
      for (;;) {
        if (source[i] !== 0x22) throw new Error('ledger: unexpected jsonb text');
        const keyEnd = stringEnd(source, i, false) - 1;
        const keyAt = i + 1;
        i = skipSpace(source, keyEnd + 1, source.length);
        if (source[i] !== 0x3a) throw new Error('ledger: unexpected jsonb text');
        const valueAt = skipSpace(source, i + 1, source.length);
        this.push(keyAt, keyEnd, valueAt);
        i = skipSpace(source, skipValue(source, valueAt), source.length);
        if (source[i] === 0x2c) i = skipSpace(source, i + 1, source.length);
        else if (source[i] === 0x7d) break;
        else throw new Error('ledger: unexpected jsonb text');
      }
    }
    const end = i + 1;
    const top = this.top;
    const members = this.members;
    // Insertion sort by key bytes (an event's objects have a handful of members).
    for (let a = base + 3; a < top; a += 3) {
      const keyAt = members[a];
      const keyEnd = members[a + 1];
      const valueAt = members[a + 2];
      let b = a;
      while (b > base && compareBytes(source, members[b - 3], members[b - 2], keyAt, keyEnd) > 0) {
        members[b] = members[b - 3];
        members[b + 1] = members[b - 2];
        members[b + 2] = members[b - 1];
        b -= 3;
      }
      members[b] = keyAt;
      members[b + 1] = keyEnd;
      members[b + 2] = valueAt;
    }
    this.ensure(1);
    this.out[this.pos++] = 0x7b;
    for (let m = base; m < top; m += 3) {
      this.ensure(2);
      if (m > base) this.out[this.pos++] = 0x2c;
      this.out[this.pos++] = 0x22;
      this.copy(source, this.members[m], this.members[m + 1]);
      this.ensure(2);
      this.out[this.pos++] = 0x22;
      this.out[this.pos++] = 0x3a;
      // A nested object stacks its members above this one's.
      this.value(source, this.members[m + 2]);
    }
    this.ensure(1);
    this.out[this.pos++] = 0x7d;
    this.top = base;
    return end;
  }

  private push(keyAt: number, keyEnd: number, valueAt: number): void {
    if (this.top + 3 > this.members.length) {
      const bigger = new Int32Array(this.members.length * 2);
      bigger.set(this.members);
      this.members = bigger;
    }
    this.members[this.top++] = keyAt;
    this.members[this.top++] = keyEnd;
    this.members[this.top++] = valueAt;
  }

  /**
   * `recorded_at` (int64 microseconds from 2000-01-01 UTC) as `to_char(… 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
   * writes it; null for ±infinity, as to_char answers.
   */
  private timestamp(tuple: Buffer, at: number): string | null {
    const hi = tuple.readInt32BE(at);
    const lo = tuple.readUInt32BE(at + 4);
    let days: number;
    let inDay: number;
    if (Math.abs(hi) < 0x200000) {
      const us = hi * 0x100000000 + lo;
      days = Math.floor(us / DAY_US);
      inDay = us - days * DAY_US;
    } else {
      const us = tuple.readBigInt64BE(at);
      if (us === INT64_MAX || us === INT64_MIN) return null;
      const dayUs = BigInt(DAY_US);
      let d = us / dayUs;
      if (us % dayUs < 0n) d -= 1n;
      days = Number(d);
      inDay = Number(us - d * dayUs);
    }
    if (days !== this.day) this.setDay(days);
    const seconds = Math.floor(inDay / 1_000_000);
    const micros = inDay - seconds * 1_000_000;
    const hh = Math.floor(seconds / 3600);
    const mm = Math.floor((seconds % 3600) / 60);
    const ss = seconds % 60;
    return `${this.dayPrefix}T${two(hh)}:${two(mm)}:${two(ss)}.${String(micros).padStart(6, '0')}Z`;
  }
}

/** The 16 bytes of a uuid at `at`, as PostgreSQL's uuid text writes them (lower-case, hyphenated). */
function uuidText(bytes: Buffer, at: number): string {
  let text = '';
  for (let i = 0; i < 16; i++) text += (i === 4 || i === 6 || i === 8 || i === 10 ? '-' : '') + HEX[bytes[at + i]];
  return text;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `YYYY-MM-DD` of a day counted from 1970-01-01 (proleptic Gregorian; years BC as to_char's YYYY shows them: 1 BC is 0001). */
function civilDate(daysSince1970: number): string {
  // Howard Hinnant's days_from_civil inverse.
  const z = daysSince1970 + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const year = y > 0 ? y : 1 - y;
  return `${String(year).padStart(4, '0')}-${two(m)}-${two(d)}`;
}

function readInt64(buffer: Buffer, at: number): number {
  const hi = buffer.readInt32BE(at);
  const lo = buffer.readUInt32BE(at + 4);
  // As storedEventOf's Number(): exact below 2^53 (every position and version the service makes).
  return Math.abs(hi) < 0x200000 ? hi * 0x100000000 + lo : Number(buffer.readBigInt64BE(at));
}

function skipSpace(source: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = source[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/**
 * Where the string opened at `i` ends (after its closing quote). For a value (`value`), one with a
 * backslash or a control character takes the general path; a key must be printable ASCII too.
 */
function stringEnd(source: Buffer, i: number, value: boolean): number {
  for (let j = i + 1; j < source.length; j++) {
    const b = source[j];
    if (b === 0x22) return j + 1;
    if (b === 0x5c || b < 0x20 || (!value && b >= 0x80)) throw GENERAL;
  }
  throw new Error('ledger: unterminated jsonb string');
}

function scalarEnd(source: Buffer, i: number): number {
  let j = i;
  while (j < source.length) {
    const c = source[j];
    if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
    j++;
  }
  return j;
}

/** Skips a JSON value without writing; returns where it ends. */
function skipValue(source: Buffer, i: number): number {
  const c = source[i];
  if (c === 0x22) return stringEnd(source, i, true);
  if (c !== 0x7b && c !== 0x5b) return scalarEnd(source, i);
  let depth = 0;
  for (let j = i; j < source.length; j++) {
    const b = source[j];
    if (b === 0x22) j = stringEnd(source, j, true) - 1;
    else if (b === 0x7b || b === 0x5b) depth++;
    else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  throw new Error('ledger: unterminated jsonb value');
}

/** An optional minus, then 1 to 15 digits without a leading zero (or a lone 0): its shortest ECMAScript form is itself. */
function plainInteger(source: Buffer, i: number, end: number): boolean {
  let j = i;
  if (source[j] === 0x2d) j++;
  const digits = end - j;
  if (digits < 1 || digits > 15) return false;
  if (source[j] === 0x30) return digits === 1 && j === i;
  for (; j < end; j++) if (source[j] < 0x30 || source[j] > 0x39) return false;
  return true;
}

/** Compares two keys by their bytes (printable ASCII: the same order as UTF-16 code units). */
function compareBytes(source: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const length = Math.min(aEnd - aStart, bEnd - bStart);
  for (let k = 0; k < length; k++) {
    const d = source[aStart + k] - source[bStart + k];
    if (d !== 0) return d;
  }
  return aEnd - aStart - (bEnd - bStart);
}
