export { openRuntime, type Runtime, type OpenRuntimeOptions } from './runtime';
export { PlatformModule } from './platform.module';
export { RUNTIME, DB, READ_DB } from './tokens';
export { ReadYourWrites } from './read-your-writes';
export { checkDataDir, dataDirHasNoDatabase, describeDatabase, explainStartupFailure, StartupFailure } from './startup-failures';
export { ProjectorService, PROJECTIONS, runnerLogger } from './projector.service';
