import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AccountsModule, projectionsProvider } from '@accountable/accounts';
import { EventStore } from '@accountable/event-store';
import { PlatformModule, type Runtime } from '@accountable/platform';
import { SinkSenders } from '@accountable/event-streams';
import { CliOutput } from './cli-output';
import { AuditCommand } from './commands/audit.command';
import { CreateMainCommand } from './commands/create-main.command';
import { KeysCommand } from './commands/keys.command';
import { RotateTokenCommand } from './commands/rotate-token.command';
import { MigrateCommand } from './commands/migrate.command';
import { operatorCommandRunners } from './commands/operator.commands';
import { LedgerCommand, LedgerHeadCommand, LedgerProveCommand, LedgerVerifyCommand } from './commands/ledger.command';
import {
  ProjectionsCommand,
  ProjectionsParkedCommand,
  ProjectionsRebuildCommand,
  ProjectionsRetryCommand,
  ProjectionsStatusCommand,
} from './commands/projections.command';
import { ReplayCommand, StateCommand } from './commands/replay.command';
import { VerifyCommand } from './commands/verify.command';

/** The CLI shares the use cases with the API; it runs no projections in the background (the service does). */
@Module({})
export class CliModule {
  static forRuntime(runtime: Runtime): DynamicModule {
    return {
      module: CliModule,
      imports: [
        PlatformModule.forRuntime(runtime, new EventStore(runtime.db)),
        CqrsModule.forRoot(),
        AccountsModule,
      ],
      providers: [
        CliOutput,
        projectionsProvider,
        MigrateCommand,
        CreateMainCommand,
        ...operatorCommandRunners,
        ReplayCommand,
        StateCommand,
        VerifyCommand,
        AuditCommand,
        KeysCommand,
        RotateTokenCommand,
        ProjectionsCommand,
        ProjectionsStatusCommand,
        ProjectionsParkedCommand,
        ProjectionsRetryCommand,
        // Sends for `projections retry sink:DG…` (the egress guard with EGRESS_ALLOW, signing tokens).
        SinkSenders,
        ProjectionsRebuildCommand,
        LedgerCommand,
        LedgerHeadCommand,
        LedgerVerifyCommand,
        LedgerProveCommand,
      ],
    };
  }
}
