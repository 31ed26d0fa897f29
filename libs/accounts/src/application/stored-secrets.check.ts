import { sql, type Kysely } from 'kysely';
import path from 'node:path';
import type { Database } from '@accountable/database';
import type { Runtime } from '@accountable/platform';
import { describeUnopenable, ENCRYPTION_KEY_FILE, type Keyring } from '@accountable/secrets';
import { AccountEventType } from '../domain';

/** Sealed values sampled per key (see checkStoredSecretsOpen). */
const SAMPLES_PER_KEY = 3;
/** More distinct key headers than this is not a keyring's history: the check stops there. */
const MAX_KEYS = 64;

/** A key that sealed stored secrets and that the keyring cannot open: what start-up refuses. */
export interface UnopenableKey {
  /** `v2.<key id>`, or `v1` for values sealed before key ids. */
  header: string;
  keyId: string | null;
  /** The accounts whose sealed tokens were tried, and why the first did not open. */
  sids: string[];
  reason: string;
}

// The expression and predicate of migration 0013's partial index (events_sealing_key_idx),
// spelled the same way, as literals, so the planner uses it.
const header = sql<string>`substring(data->>'authToken' from '^(v1|v2\\.[A-Za-z0-9_-]{11})\\.')`;
const creation = sql<boolean>`type IN (${sql.lit(AccountEventType.MainAccountCreated)}, ${sql.lit(AccountEventType.SubaccountCreated)})`;

/**
 * Before serving: can the keyring open the auth tokens in the log? Bounded work, whatever the
 * log's size: the distinct key headers of the creation events (a loose index scan on
 * events_sealing_key_idx, one probe per key), then up to SAMPLES_PER_KEY tokens of each, opened
 * with their account's sid. A key is refused only when none of its samples opens and the keyring
 * lacks it: a wrong or missing key fails them all, while an altered value is not a key problem
 * (`verify` finds it, and a request with it is refused as a wrong password is). The read model holds the same sealed
 * strings as the events (verify checks that); idempotency answers, kept 24 hours, are checked by
 * `verify` only.
 */
export async function findUnopenableKeys(db: Kysely<Database>, keyring: Keyring): Promise<UnopenableKey[]> {
  const { rows } = await sealedTokenSamples().execute(db);
  const unopenable: UnopenableKey[] = [];
  for (const { header: found, samples } of rows) {
    const reasons = samples.map((s) => keyring.check(s.token, s.sid ?? ''));
    if (reasons.some((reason) => reason === null)) continue;
    // A value in no sealed format, or one its own (held) key does not open, is altered data,
    // not a missing key: no keyring would open it. `verify` reports those.
    const missingKey = reasons.find((reason) => reason?.kind === 'unknown-key' || reason?.kind === 'no-key-opens-v1');
    if (!missingKey) continue;
    unopenable.push({
      header: found,
      keyId: found.startsWith('v2.') ? found.slice(3) : null,
      sids: samples.map((s) => s.sid),
      reason: describeUnopenable(missingKey),
    });
  }
  return unopenable;
}

/** Up to SAMPLES_PER_KEY creation events' tokens per distinct key header (see findUnopenableKeys). */
export function sealedTokenSamples() {
  return sql<{ header: string; samples: { sid: string; token: string }[] }>`
    WITH RECURSIVE headers(header) AS (
      (SELECT ${header} FROM events WHERE ${creation} AND ${header} IS NOT NULL ORDER BY 1 LIMIT 1)
      UNION ALL
      SELECT (SELECT ${header} FROM events WHERE ${creation} AND ${header} > h.header ORDER BY 1 LIMIT 1)
        FROM headers h
       WHERE h.header IS NOT NULL
    )
    SELECT h.header,
           (SELECT coalesce(jsonb_agg(jsonb_build_object('sid', s.data->>'sid', 'token', s.data->>'authToken')), '[]'::jsonb)
              FROM (SELECT data FROM events WHERE ${creation} AND ${header} = h.header LIMIT ${SAMPLES_PER_KEY}) s) AS samples
      FROM (SELECT header FROM headers WHERE header IS NOT NULL LIMIT ${MAX_KEYS}) h`;
}

/**
 * The one line start-up prints when the keyring cannot open the stored secrets. `currentKey`
 * says where the current key came from (ENCRYPTION_KEY, or the generated key file).
 */
export function unopenableKeysMessage(problems: UnopenableKey[], keyring: Keyring, currentKey: string): string {
  const missing = problems.map((p) => (p.keyId ? `key id ${p.keyId}` : 'the key of the v1 seals (from before key ids)')).join(' and ');
  const example = problems[0]!;
  return (
    `ENCRYPTION_KEY: the keyring cannot open the stored secrets: it lacks ${missing} ` +
    `(e.g. the auth token of ${example.sids[0]} is ${example.reason}); ` +
    `it holds key id ${keyring.keyIds.join(', ')} (the current one from ${currentKey}). ` +
    `Start with the key the data was sealed with as ENCRYPTION_KEY, or list it in ENCRYPTION_PREVIOUS_KEYS (README: "Encryption keys")`
  );
}

/** For entry points (API, projector, CLI): null when the runtime's keyring opens the stored secrets, else the one line to print. */
export async function storedSecretsRefusal(runtime: Runtime): Promise<string | null> {
  const problems = await findUnopenableKeys(runtime.db, runtime.keyring);
  if (problems.length === 0) return null;
  const { ENCRYPTION_KEY, DATA_DIR } = runtime.config;
  return unopenableKeysMessage(problems, runtime.keyring, ENCRYPTION_KEY ? 'ENCRYPTION_KEY' : path.join(DATA_DIR, ENCRYPTION_KEY_FILE));
}
