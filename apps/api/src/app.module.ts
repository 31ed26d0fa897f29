import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { ACCOUNT_READ_MODEL_WRITER, AccountsModule, OwnerCascadeProjection, type AccountReadModelWriter } from '@accountable/accounts';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime } from '@accountable/platform';
import { AccountReadModelProjection, applyAccountEvent, PROJECTIONS, ProjectorService } from '@accountable/projections';
import { AccountsController } from './accounts/accounts.controller';
import { HealthModule } from './health/health.module';
import { BasicAuthGuard } from './http/basic-auth.guard';
import { TwilioExceptionFilter } from './http/twilio-exception.filter';
import { TwilioParamsPipe } from './http/twilio-params.pipe';

/** The inline half of the account read model: same version-guarded writes as the projection. */
const readModelWriter: AccountReadModelWriter = {
  async apply(executor, events) {
    for (const event of events) await applyAccountEvent(executor, event);
  },
};

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime, options: { projector?: boolean } = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRuntime(runtime, new EventStore(runtime.db)),
        CqrsModule.forRoot(),
        { module: AccountsModule, providers: [{ provide: ACCOUNT_READ_MODEL_WRITER, useValue: readModelWriter }], global: false },
        HealthModule,
      ],
      controllers: [AccountsController],
      providers: [
        BasicAuthGuard,
        { provide: APP_FILTER, useClass: TwilioExceptionFilter },
        { provide: APP_PIPE, useClass: TwilioParamsPipe },
        ...(options.projector === false
          ? []
          : [
              {
                provide: PROJECTIONS,
                useFactory: (cascade: OwnerCascadeProjection) => [new AccountReadModelProjection(), cascade],
                inject: [OwnerCascadeProjection],
              },
              ProjectorService,
            ]),
      ],
    };
  }
}
