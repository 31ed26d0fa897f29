import { Global, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { EventStore } from '@accountable/event-store';
import { HeadSigner } from '@accountable/ledger';
import { Keyring } from '@accountable/secrets';
import { ReadYourWrites } from './read-your-writes';
import type { Runtime } from './runtime';
import { DB, READ_DB, RUNTIME } from './tokens';

/** Lets the last commit's NOTIFY go out before the runtime closes the pool. */
@Injectable()
class FeedSignalDrain implements OnApplicationShutdown {
  constructor(private readonly store: EventStore) {}

  onApplicationShutdown(): Promise<void> {
    return this.store.signal.drain();
  }
}

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
        { provide: Keyring, useValue: runtime.keyring },
        { provide: HeadSigner, useValue: runtime.headSigner },
        ReadYourWrites,
        FeedSignalDrain,
      ],
      exports: [RUNTIME, DB, READ_DB, EventStore, Keyring, HeadSigner, ReadYourWrites],
    };
  }
}
