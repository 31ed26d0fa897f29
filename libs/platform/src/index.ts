export { openRuntime, type Runtime, type OpenRuntimeOptions } from './runtime';
export { PlatformModule, RUNTIME, DB, READ_DB } from './platform.module';
