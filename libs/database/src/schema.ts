import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/**
 * Per-stream row: its current version. Updating it is the per-stream lock. Since migration 0009
 * its times are those of its first and last events (`append_to_stream` stamps no event earlier
 * than `updated_at`).
 */
export interface StreamsTable {
  stream_id: string;
  version: number;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

/** One row (migration 0009): events after this global position are stamped monotonically per stream. */
export interface EventClockTable {
  one: ColumnType<boolean, never, never>;
  monotonic_after_position: ColumnType<number, never, never>;
  since: ColumnType<Date, never, never>;
}

/**
 * The event log. Rows are immutable (a trigger refuses UPDATE, DELETE and TRUNCATE).
 * `transaction_id` (xid8) is returned by pg as a decimal string.
 */
export interface EventsTable {
  global_position: ColumnType<number, never, never>;
  transaction_id: ColumnType<string, never, never>;
  stream_id: string;
  stream_version: number;
  event_id: string;
  type: string;
  schema_version: number;
  data: JSONColumnType<Record<string, unknown>>;
  metadata: JSONColumnType<Record<string, unknown>>;
  recorded_at: ColumnType<Date, never, never>;
}

export interface ProjectionCheckpointsTable {
  name: string;
  transaction_id: ColumnType<string, string | undefined, string>;
  global_position: ColumnType<number, number | undefined, number>;
  updated_at: ColumnType<Date, never, Date>;
}

/**
 * An event a projection could not apply, set aside (migration 0010): written with the checkpoint
 * move past it, deleted by the retry that applies it.
 */
export interface ProjectionParkedEventsTable {
  projection: string;
  transaction_id: ColumnType<string, string, never>;
  global_position: number;
  event_id: string;
  event_type: string;
  error_code: string | null;
  error: string;
  attempts: ColumnType<number, number | undefined, number>;
  parked_at: ColumnType<Date, never, never>;
  last_attempt_at: ColumnType<Date, never, Date>;
}

/** Account read model: one row per account, as the Accounts API serves it. */
export interface AccountReadModelTable {
  sid: string;
  owner_account_sid: string;
  is_main: boolean;
  friendly_name: string;
  type: string;
  status: string;
  /** Sealed (AES-256-GCM), never plaintext. */
  auth_token: string;
  /** Sealed like auth_token; null when the account has none (migration 0015). */
  secondary_auth_token: ColumnType<string | null, string | null | undefined, string | null>;
  suspended_by_owner: boolean;
  open_subaccounts: number;
  date_created: Date;
  date_updated: Date;
  version: number;
}

/** API keys (migration 0014), part of the accounts projection. */
export interface ApiKeysTable {
  sid: string;
  account_sid: string;
  friendly_name: string | null;
  /** `v1.<salt>.<HMAC-SHA256>`: never the secret. */
  secret_verifier: string;
  date_created: Date;
  date_updated: Date;
}

/**
 * Audit history: one row per audited event, as Monitor v1 Events serves it. Written only by the
 * `audit` projection; `sid` is `AE` + the event id's 32 hex digits.
 */
export interface AuditHistoryTable {
  sid: string;
  event_id: string;
  global_position: number;
  /** The main account owning the resource (visibility). */
  account_sid: string;
  resource_sid: string;
  resource_type: string;
  /** `account.created` | `account.updated` */
  event_type: string;
  /** `{ field: { previous, updated } }` */
  event_data: JSONColumnType<Record<string, unknown> | null, string | null, never>;
  /** `account` (API), `operator` (CLI), `system` (cascades). */
  actor_type: string;
  actor_sid: string | null;
  /** `api`, `cli`, `system`. */
  source: string;
  source_ip_address: string | null;
  user_agent: string | null;
  request_id: string | null;
  correlation_id: string | null;
  causation_id: string | null;
  description: string | null;
  /** Truncated to milliseconds (a CHECK holds it), the precision of page tokens. */
  event_date: ColumnType<Date, Date | string, never>;
}

/**
 * An Idempotency-Key an account used on a POST that succeeded, stored with that POST's events.
 * Honoured for 24 hours from `created_at`.
 */
export interface IdempotencyKeysTable {
  account_sid: string;
  key: string;
  /** sha256 (hex) of the request's method, path and known parameters. */
  request_hash: string;
  /** The answer to replay, sealed (the Keyring, context `idempotency:<account_sid>:<key>`): it holds an auth token. */
  response: string;
  created_at: ColumnType<Date, never, never>;
}

/** The ledger's tree (migration 0011): per leaf, its hash and the perfect subtrees it completes. */
export interface LedgerLeavesTable {
  leaf_index: number;
  global_position: number;
  hashes: Buffer;
}

/** Signed tree heads (migration 0011). */
export interface LedgerHeadsTable {
  tree_size: number;
  root_hash: Buffer;
  timestamp_ms: number;
  key_id: string;
  public_key: Buffer;
  signature: Buffer;
}

/** Event Streams sinks (migration 0016): current state of the `event-streams-AC…` streams, plus delivery state. */
export interface EventSinksTable {
  sid: string;
  account_sid: string;
  owner_account_sid: string;
  description: string;
  sink_type: 'webhook' | 'nats';
  sink_configuration: Record<string, unknown>;
  destination_password_sealed: string | null;
  status: 'initialized' | 'validating' | 'active' | 'failed';
  test_id: string | null;
  date_created: Date;
  date_updated: Date;
  /** xid8 as a decimal string. */
  created_transaction_id: string;
  created_position: number;
  failure_count: Generated<number>;
  first_failure_at: Date | null;
  last_failure_at: Date | null;
  last_failure_code: number | null;
  last_failure_message: string | null;
  last_delivered_at: Date | null;
  delivered_count: Generated<number>;
  dropped_count: Generated<number>;
}

/** Event Streams subscriptions (migration 0016); one per sink. */
export interface EventSubscriptionsTable {
  sid: string;
  account_sid: string;
  owner_account_sid: string;
  sink_sid: string;
  description: string;
  date_created: Date;
  date_updated: Date;
  created_transaction_id: string;
  created_position: number;
}

/** The event types a subscription selects, each at one schema version (migration 0016). */
export interface EventSubscribedTypesTable {
  subscription_sid: string;
  type: string;
  schema_version: number;
  account_sid: string;
}

export interface EventStoreTables {
  streams: StreamsTable;
  events: EventsTable;
  projection_checkpoints: ProjectionCheckpointsTable;
  projection_parked_events: ProjectionParkedEventsTable;
  event_clock: EventClockTable;
}

/** Every table the application knows. Libraries add their tables here as they land. */
export interface Database extends EventStoreTables {
  account_read_model: AccountReadModelTable;
  api_keys: ApiKeysTable;
  audit_history: AuditHistoryTable;
  idempotency_keys: IdempotencyKeysTable;
  ledger_leaves: LedgerLeavesTable;
  ledger_heads: LedgerHeadsTable;
  event_sinks: EventSinksTable;
  event_subscriptions: EventSubscriptionsTable;
  event_subscribed_types: EventSubscribedTypesTable;
}

export type { Generated };
