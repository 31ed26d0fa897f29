import type { ExpectedVersion } from './event.types';

/** The stream was not at the version the writer expected. */
export class WrongExpectedVersionError extends Error {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    /** The stream's version when the append was refused; null when it does not exist. */
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: expected version ${String(expected)}, actual ${actual ?? 'no stream'}`);
  }
}

/** An event id of the append is already stored somewhere else than where this append puts it. */
export class DuplicateEventIdError extends Error {
  override readonly name = 'DuplicateEventIdError';
  constructor(
    readonly streamId: string,
    readonly eventIds: readonly string[],
    readonly actual: number | null,
  ) {
    super(`stream ${streamId}: an event id of this append is already stored elsewhere`);
  }
}

/** A stored event that cannot be lifted to its current shape: an upcaster refused its data. */
export class UnreadableEventError extends Error {
  override readonly name = 'UnreadableEventError';
  constructor(
    readonly eventId: string,
    readonly type: string,
    readonly schemaVersion: number,
    cause: unknown,
  ) {
    super(`event ${eventId} (${type}, schema version ${schemaVersion}) cannot be read: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export type ConcurrencyError = WrongExpectedVersionError | DuplicateEventIdError;

export function isConcurrencyError(error: unknown): error is ConcurrencyError {
  return error instanceof WrongExpectedVersionError || error instanceof DuplicateEventIdError;
}
