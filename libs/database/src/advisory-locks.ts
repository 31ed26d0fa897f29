/**
 * Every advisory-lock key space of the service, named in one file so that no two uses share a
 * key by accident. PostgreSQL keeps one-bigint keys and two-int4 keys (class, object) apart:
 * the two spaces never meet.
 *
 * One bigint:
 * - an event stream's lock is hashtextextended(stream_id, 0): taken by append_to_stream,
 *   append_to_streams and commit_command (in key order, before any write; migrations 0009, 0018
 *   and 0017, frozen, so they spell it themselves), and by CommandTransaction's retry, which takes
 *   a command's streams together, in the order of these keys;
 * - the fixed keys of ADVISORY_LOCK_KEY, apart from those only by odds (2^-64 a stream).
 *
 * Two int4: one class a purpose (ADVISORY_LOCK_CLASS, four ASCII letters), the object
 * hashtext(name) within it.
 */
export const ADVISORY_LOCK_KEY = {
  /** In the `postgres` database of an embedded server: held by the process that will stop it. */
  embeddedServerOwner: '7163020418117001',
  /** Serialises concurrent start-ups' GRANTs (app-role.ts). */
  roleGrants: '7163020418117002',
} as const;

export const ADVISORY_LOCK_CLASS = {
  /** 'ACPR': the runner leading a projection (object: the projection's name). */
  projectionLeader: 0x41435052,
  /** 'ACRB': one rebuild of a projection at a time (object: the projection's name). */
  projectionRebuild: 0x41435242,
} as const;
