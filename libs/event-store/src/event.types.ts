/** Who or what caused an event: recorded on every event for the audit trail. */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  /** e.g. `account` (an API caller), `operator` (CLI), `system` (a cascade). */
  actorType?: string;
  actorSid?: string | null;
  /** e.g. `api`, `cli`, `system`. */
  source?: string;
  sourceIp?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  [key: string]: unknown;
}

export interface NewEvent<TType extends string = string, TData = Record<string, unknown>> {
  /** Stable id; a retried append with the same ids is idempotent. Generated when absent. */
  eventId?: string;
  /** The stored type string: fixed forever, never derived from a class name. */
  type: TType;
  schemaVersion?: number;
  data: TData;
  metadata?: EventMetadata;
}

export interface RecordedEvent<TType extends string = string, TData = Record<string, unknown>> {
  globalPosition: number;
  /** xid8 of the appending transaction, as a decimal string. */
  transactionId: string;
  streamId: string;
  streamVersion: number;
  eventId: string;
  type: TType;
  schemaVersion: number;
  data: TData;
  metadata: EventMetadata;
  recordedAt: Date;
  /**
   * Set only by the feed (`readFeed`, `readAfterFence`): the stored event could not be lifted to
   * its current shape (an upcaster threw), and `data` is as stored. A projection never gets such
   * an event to apply: the runner parks it, a rebuild sets it aside. Every other read throws.
   */
  unreadable?: Error;
}

/**
 * - a number N: the stream must be exactly at version N (0: must not exist yet)
 * - `no_stream`: must not exist; `stream_exists`: must exist; `any`: no check
 */
export type ExpectedVersion = number | 'no_stream' | 'stream_exists' | 'any';

export interface AppendResult {
  /** The stream's version after the append. */
  nextVersion: number;
  /** False when the append was a retry of one already stored (nothing was written). */
  written: boolean;
  firstPosition?: number;
  lastPosition?: number;
  transactionId?: string;
  /**
   * When written: the time of every event of the append, taken once it held the stream's lock and
   * never before the stream's previous event (see `append_to_stream`, migration 0009).
   */
  recordedAt?: Date;
}

/** A position in the global feed: events are read in (transactionId, globalPosition) order. */
export interface FeedPosition {
  transactionId: string;
  globalPosition: number;
}

export const FEED_START: FeedPosition = Object.freeze({ transactionId: '0', globalPosition: 0 });
