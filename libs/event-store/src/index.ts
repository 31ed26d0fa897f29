export * from './event.types';
export * from './event-store.errors';
export { EventStore, type AppendOutcome, type ReadStreamOptions, type Executor } from './event-store';
export { Upcasters, type Upcaster } from './upcasters';
export { FeedSignal, FEED_CHANNEL } from './feed-signal';
export { SharedCommits, type Settled, type SharedCommitsOptions } from './shared-commits';
export { ipAddressOrNull, MAX_ADDRESS_LENGTH } from './source-address';
export * from './projections';
export {
  CommandTransaction,
  CommandConflictError,
  storeAnswer,
  type CommandStream,
  type CommandWrite,
  type Decided,
  type RowWrite,
  type StoredAnswer,
} from './command-transaction';
