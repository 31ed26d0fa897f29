import type { Migration } from 'kysely';
import * as m0001 from './0001_event_store';

/**
 * Every migration, in order. Listed statically (not discovered on disk) so that the same
 * set runs from compiled JavaScript, from ts-jest and from the CLI.
 */
export const migrations: Record<string, Migration> = {
  '0001_event_store': m0001,
};
