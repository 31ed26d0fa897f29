import { Module, type DynamicModule } from '@nestjs/common';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime } from '@accountable/platform';
import { HealthModule } from './health/health.module';

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRuntime(runtime, new EventStore(runtime.db)), HealthModule],
    };
  }
}
