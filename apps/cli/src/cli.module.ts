import { Module, type DynamicModule } from '@nestjs/common';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime } from '@accountable/platform';
import { CliOutput } from './cli-output';
import { MigrateCommand } from './commands/migrate.command';

@Module({})
export class CliModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: CliModule,
      imports: [PlatformModule.forRuntime(runtime, new EventStore(runtime.db))],
      providers: [CliOutput, MigrateCommand],
    };
  }
}
