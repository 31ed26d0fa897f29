import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ACCOUNT_READ_MODEL_WRITER, AccountsModule } from '@accountable/accounts';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime } from '@accountable/platform';
import { accountReadModelWriter, projectionsProvider, ProjectorService } from '@accountable/projections';
import { AccountsController } from './accounts/accounts.controller';
import { EventsController } from './events/events.controller';
import { HealthModule } from './health/health.module';
import { BasicAuthGuard } from './http/basic-auth.guard';
import { TwilioExceptionFilter } from './http/twilio-exception.filter';
import { TwilioParamsPipe } from './http/twilio-params.pipe';

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime, options: { projector?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRuntime(runtime, new EventStore(runtime.db)),
        CqrsModule.forRoot(),
        { module: AccountsModule, providers: [{ provide: ACCOUNT_READ_MODEL_WRITER, useValue: accountReadModelWriter }] },
        HealthModule,
      ],
      controllers: [AccountsController, EventsController],
      providers: [
        BasicAuthGuard,
        { provide: APP_FILTER, useClass: TwilioExceptionFilter },
        { provide: APP_PIPE, useClass: TwilioParamsPipe },
        ...(options.projector === false
          ? []
          : [
              projectionsProvider,
              ProjectorService,
            ]),
      ],
    };
  }
}
