export type { Projection } from './runner/projection';
export { CheckpointStore } from './runner/checkpoint-store';
export { ProjectionRunner, CheckpointConflictError, EVENTS_CHANNEL, type ProjectionRunnerOptions, type RunnerLogger } from './runner/projection-runner';
export {
  AccountReadModelProjection,
  applyAccountEvent,
  ReadModelDriftError,
  type AccountReadModelInput,
} from './account-read-model/account-read-model.projection';
export { ProjectorService, PROJECTIONS } from './projector.service';
