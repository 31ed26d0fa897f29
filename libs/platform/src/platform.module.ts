import { Global, Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventStore } from '@accountable/event-store';
import { SecretBox } from '@accountable/secrets';
import type { Runtime } from './runtime';

export const RUNTIME = Symbol('RUNTIME');
/** Kysely<Database> on the primary. */
export const DB = Symbol('DB');
/** Kysely<Database> for read-model queries (a replica when READ_DATABASE_URL is set). */
export const READ_DB = Symbol('READ_DB');

/** Hands the already-open runtime to Nest; the runtime is opened (and closed) outside Nest. */
@Global()
@Module({})
export class PlatformModule {
  static forRuntime(runtime: Runtime, eventStore: EventStore): DynamicModule {
    return {
      module: PlatformModule,
      // The configuration was validated (loadConfig) before Nest started, since the database
      // comes first; ConfigService hands the same validated values to any provider.
      imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ ...runtime.config })] })],
      providers: [
        { provide: RUNTIME, useValue: runtime },
        { provide: DB, useValue: runtime.db },
        { provide: READ_DB, useValue: runtime.readDb },
        { provide: EventStore, useValue: eventStore },
        { provide: SecretBox, useValue: runtime.secretBox },
      ],
      exports: [RUNTIME, DB, READ_DB, EventStore, SecretBox],
    };
  }
}
