import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { LoggerModule } from 'nestjs-pino';
import type { Logger } from 'pino';
import { AccountsModule, IdempotencyKeyPruner, projectionsProvider } from '@accountable/accounts';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime, ProjectorService } from '@accountable/platform';
import { AccountHistoryController } from './accounts/account-history.controller';
import { AccountsController } from './accounts/accounts.controller';
import { VersionController } from './accounts/version.controller';
import { EventsController } from './events/events.controller';
import { EventTypesController } from './event-streams/event-types.controller';
import { SinksController } from './event-streams/sinks.controller';
import { SubscriptionsController } from './event-streams/subscriptions.controller';
import { DeliveryService, EVENT_STREAMS_BASE_URL, EVENT_TYPE_CATALOG, EVENT_TYPES, EventStreamsCommands, EventStreamsReader, SCHEMA_VERSIONS, SinkSenders } from '@accountable/event-streams';
import { ApiKeysController } from './keys/api-keys.controller';
import { AuthTokensController } from './auth-tokens/auth-tokens.controller';
import { LedgerController } from './ledger/ledger.controller';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health/health.controller';
import { PublicUrl } from './http/public-url';
import { TwilioExceptionFilter } from './http/twilio-exception.filter';
import { TwilioParamsPipe } from './http/twilio-params.pipe';
import { loggingParams } from './observability/logging';
import { MetricsController } from './observability/metrics.controller';
import { HttpMetrics, MetricsService } from './observability/metrics.service';

/**
 * What a process runs. `api`: the Twilio-compatible HTTP API. `projector`: the projections
 * (leadership decides which process actually applies each one). Health and metrics are served
 * by every process. `npm start` runs both in one process.
 */
export type ProcessRole = 'all' | 'api' | 'projector';

export interface AppOptions {
  role?: ProcessRole;
  httpMetrics: HttpMetrics;
  /** The process's logger (observability/logging.ts), shared with the request log hook. */
  logger: Logger;
}

@Module({})
export class AppModule {
  static forRuntime(runtime: Runtime, options: AppOptions): DynamicModule {
    const role = options.role ?? 'all';
    const api = role !== 'projector';
    const projector = role !== 'api';
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggingParams(options.logger)),
        PlatformModule.forRuntime(runtime, new EventStore(runtime.db)),
        CqrsModule.forRoot(),
        AccountsModule,
        TerminusModule.forRoot({ logger: false }),
      ],
      controllers: [...(api ? [VersionController, AccountsController, AccountHistoryController, EventsController, ApiKeysController, AuthTokensController, LedgerController, SinksController, SubscriptionsController, EventTypesController] : []), HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: TwilioExceptionFilter },
        { provide: APP_PIPE, useClass: TwilioParamsPipe },
        { provide: HttpMetrics, useValue: options.httpMetrics },
        projectionsProvider,
        ...(api ? [EventStreamsCommands, EventStreamsReader] : []),
        ...(api ? [{ provide: EVENT_TYPE_CATALOG, useValue: { types: EVENT_TYPES, schemaVersions: SCHEMA_VERSIONS } }] : []),
        PublicUrl,
        { provide: EVENT_STREAMS_BASE_URL, useFactory: (url: PublicUrl) => () => url.base, inject: [PublicUrl] },
        MetricsService,
        // Background work: the projections, Event Streams delivery, and deleting expired Idempotency-Keys.
        SinkSenders,
        ...(projector ? [ProjectorService, DeliveryService, IdempotencyKeyPruner] : []),
      ],
    };
  }
}
