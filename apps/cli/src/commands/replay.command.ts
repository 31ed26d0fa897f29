import { QueryBus } from '@nestjs/cqrs';
import { Command, CommandRunner, Option } from 'nest-commander';
import { AccountStateAtQuery, ReplayAccountQuery, type AccountSnapshot, type ReplayStep } from '@accountable/accounts';
import { isAccountSid } from '@accountable/twilio';
import { CliOutput, UnknownAccountError, usageError, visible } from '../cli-output';

/** Step through an account's history: each event with what it changed and the state after it. */
@Command({ name: 'replay', arguments: '<sid>', description: "print every event of an account's stream with the state after it" })
export class ReplayCommand extends CommandRunner {
  constructor(
    private readonly queries: QueryBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([sid]: string[], options: { toVersion?: number; json?: boolean }): Promise<void> {
    if (!isAccountSid(sid)) throw usageError(`not an account sid: ${sid ?? '(missing)'}`);
    const steps = await this.queries.execute(new ReplayAccountQuery(sid, options.toVersion));
    if (steps.length === 0) throw new UnknownAccountError(sid);
    this.out.result(options, steps, () => steps.map(describeStep).join('\n\n'));
  }

  @Option({ flags: '--to-version <n>', description: 'stop after this stream version' })
  parseToVersion(value: string): number {
    return positiveInteger('--to-version', value);
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

/** The account as it was at an instant or a version, folded from the log. */
@Command({ name: 'state', arguments: '<sid>', description: 'print an account as it was at a time (--as-of) or a version (--version)' })
export class StateCommand extends CommandRunner {
  constructor(
    private readonly queries: QueryBus,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run([sid]: string[], options: { asOf?: Date; version?: number; json?: boolean }): Promise<void> {
    if (!isAccountSid(sid)) throw usageError(`not an account sid: ${sid ?? '(missing)'}`);
    if ((options.asOf === undefined) === (options.version === undefined)) throw usageError('give exactly one of --as-of ISO-TIME or --version N');
    const at = options.asOf ? { asOf: options.asOf } : { version: options.version! };
    const state = await this.queries.execute(new AccountStateAtQuery(sid, at));
    if (!state) {
      const exists = (await this.queries.execute(new ReplayAccountQuery(sid, 1))).length > 0;
      throw exists ? Object.assign(new Error(`${sid} did not exist at that point (its first event is later)`), { exitCode: 1 }) : new UnknownAccountError(sid);
    }
    this.out.result(options, state, () => describeState(state));
  }

  @Option({ flags: '--as-of <time>', description: 'ISO 8601 instant, e.g. 2026-11-27T14:02:00Z' })
  parseAsOf(value: string): Date {
    const at = new Date(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime())) throw usageError(`--as-of needs an ISO 8601 time, not ${value}`);
    return at;
  }

  @Option({ flags: '--version <n>', description: 'stream version' })
  parseVersion(value: string): number {
    return positiveInteger('--version', value);
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

function positiveInteger(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw usageError(`${flag} needs a positive integer, not ${value}`);
  return Number(value);
}

function describeStep(step: ReplayStep): string {
  const actor = [step.actor.type, step.actor.sid, step.actor.source && `via ${step.actor.source}`, step.actor.ip && `from ${inline(step.actor.ip)}`]
    .filter(Boolean)
    .join(' ');
  const changes = Object.entries(step.changes).map(([field, c]) => `    ${field}: ${JSON.stringify(c.previous)} → ${JSON.stringify(c.updated)}`);
  return [`v${step.version}  ${step.recorded_at}  ${step.type}  by ${actor || 'unknown'}`, ...changes, describeState(step.state, '    ')].join('\n');
}

function describeState(state: AccountSnapshot, indent = ''): string {
  return `${indent}state: ${inline(state.friendly_name)} (${state.sid}) status=${state.status} type=${state.type} owner=${state.owner_account_sid} version=${state.version}`;
}

/** A stored value inside a line: its line breaks and control characters shown, not obeyed. */
const inline = (value: string) => visible(value, { inline: true });
