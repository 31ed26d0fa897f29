export type { Projection } from './runner/projection';
export { CheckpointStore } from './runner/checkpoint-store';
export { ProjectionRunner, CheckpointConflictError, EVENTS_CHANNEL, type ProjectionRunnerOptions, type RunnerLogger } from './runner/projection-runner';
