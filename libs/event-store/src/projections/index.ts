export type { Projection } from './projection';
export { CheckpointStore } from './runner/checkpoint-store';
export { ProjectionRunner, CheckpointConflictError, type ProjectionRunnerOptions, type RunnerLogger } from './runner/projection-runner';
export { ParkedEventStore, ProjectionHaltedError, isTransientFailure, type ParkedEvent } from './runner/parked-events';
export {
  ProjectionAdmin,
  type ProjectionStatus,
  type RebuildProgress,
  type RebuildResult,
  type RebuildParked,
  type RetryOutcome,
  type RebuildableProjection,
} from './admin/projection-admin';
