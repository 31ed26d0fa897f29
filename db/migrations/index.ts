import type { Migration } from 'kysely';
import * as m0001 from './0001_event_store';
import * as m0002 from './0002_account_read_model';
import * as m0003 from './0003_audit_history';
import * as m0004 from './0004_idempotency';
import * as m0005 from './0005_events_privileges';
import * as m0006 from './0006_append_without_notify';
import * as m0007 from './0007_read_stream_locked';
import * as m0008 from './0008_events_causation';
import * as m0009 from './0009_recorded_at_after_lock';
import * as m0010 from './0010_projection_parked_events';
import * as m0011 from './0011_ledger';
import * as m0013 from './0013_events_sealing_key';
import * as m0014 from './0014_api_keys';
import * as m0015 from './0015_secondary_auth_token';
import * as m0016 from './0016_event_streams';
import * as m0017 from './0017_commit_command';
import * as m0018 from './0018_append_to_streams';
import * as m0019 from './0019_command_row_write';
import * as m0020 from './0020_feed_fence';
import * as m0021 from './0021_commit_commands';

/**
 * Every migration, in order. Listed statically (not discovered on disk) so that the same
 * set runs from compiled JavaScript, from ts-jest and from the CLI.
 */
export const migrations: Record<string, Migration> = {
  '0001_event_store': m0001,
  '0002_account_read_model': m0002,
  '0003_audit_history': m0003,
  '0004_idempotency': m0004,
  '0005_events_privileges': m0005,
  '0006_append_without_notify': m0006,
  '0007_read_stream_locked': m0007,
  '0008_events_causation': m0008,
  '0009_recorded_at_after_lock': m0009,
  '0010_projection_parked_events': m0010,
  '0011_ledger': m0011,
  '0013_events_sealing_key': m0013,
  '0014_api_keys': m0014,
  '0015_secondary_auth_token': m0015,
  '0016_event_streams': m0016,
  '0017_commit_command': m0017,
  '0018_append_to_streams': m0018,
  '0019_command_row_write': m0019,
  '0020_feed_fence': m0020,
  '0021_commit_commands': m0021,
};
