import { Inject } from '@nestjs/common';
import { Command, CommandRunner, Option } from 'nest-commander';
import type { Kysely } from 'kysely';
import type { Database } from '@accountable/database';
import { READ_DB } from '@accountable/platform';
import { searchAudit } from '@accountable/accounts';
import { formatIso8601Seconds, isAccountSid } from '@accountable/twilio';
import { CliOutput, usageError, visible } from '../cli-output';

interface Options {
  resource?: string;
  actor?: string;
  type?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  json?: boolean;
}

/** Who did what, when, from where: the audit history across every account, newest first. */
@Command({ name: 'audit', description: 'query the audit trail (newest first); filters combine' })
export class AuditCommand extends CommandRunner {
  constructor(
    @Inject(READ_DB) private readonly db: Kysely<Database>,
    private readonly out: CliOutput,
  ) {
    super();
  }

  async run(_args: string[], options: Options): Promise<void> {
    const rows = await searchAudit(this.db, {
      resourceSid: options.resource,
      actorSid: options.actor,
      eventType: options.type,
      from: options.from,
      to: options.to,
      limit: options.limit ?? 100,
    });
    const entries = rows.map((r) => ({
      sid: r.sid,
      event_date: formatIso8601Seconds(r.event_date),
      event_type: r.event_type,
      resource_sid: r.resource_sid,
      account_sid: r.account_sid,
      actor_type: r.actor_type,
      actor_sid: r.actor_sid,
      source: r.source,
      source_ip_address: r.source_ip_address,
      user_agent: r.user_agent,
      request_id: r.request_id,
      correlation_id: r.correlation_id,
      causation_id: r.causation_id,
      event_data: r.event_data,
      description: r.description,
    }));
    this.out.result(options, entries, () =>
      entries.length === 0
        ? 'no audit entries match'
        : entries
            .map((e) => {
              const changes = Object.entries(e.event_data as Record<string, { previous: unknown; updated: unknown }>)
                .map(([field, c]) => `${field}: ${JSON.stringify(c.previous)} → ${JSON.stringify(c.updated)}`)
                .join(', ');
              const who = [e.actor_type, e.actor_sid].filter(Boolean).join(' ');
              // Addresses stored by earlier versions are whatever X-Forwarded-For said.
              const where = [e.source, e.source_ip_address && `from ${visible(e.source_ip_address, { inline: true })}`].filter(Boolean).join(' ');
              return `${e.event_date}  ${e.event_type}  ${e.resource_sid}  by ${who} via ${where}  ${changes}${e.causation_id ? `  (caused by ${e.causation_id})` : ''}`;
            })
            .join('\n'),
    );
  }

  @Option({ flags: '--resource <sid>', description: 'the account the event is about' })
  parseResource(value: string): string {
    return sid('--resource', value);
  }

  @Option({ flags: '--actor <sid>', description: 'the account that made the change' })
  parseActor(value: string): string {
    return sid('--actor', value);
  }

  @Option({ flags: '--type <type>', description: 'account.created or account.updated' })
  parseType(value: string): string {
    if (value !== 'account.created' && value !== 'account.updated') throw usageError(`--type must be account.created or account.updated, not ${value}`);
    return value;
  }

  @Option({ flags: '--from <time>', description: 'ISO 8601, inclusive' })
  parseFrom(value: string): Date {
    return time('--from', value);
  }

  @Option({ flags: '--to <time>', description: 'ISO 8601, inclusive' })
  parseTo(value: string): Date {
    return time('--to', value);
  }

  @Option({ flags: '--limit <n>', description: 'at most this many entries (default 100)' })
  parseLimit(value: string): number {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw usageError(`--limit needs a positive integer, not ${value}`);
    return Number(value);
  }

  @Option({ flags: '--json', description: 'print JSON only' })
  parseJson(): boolean {
    return true;
  }
}

function sid(flag: string, value: string): string {
  if (!isAccountSid(value)) throw usageError(`${flag} needs an account sid, not ${value}`);
  return value;
}

function time(flag: string, value: string): Date {
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at.getTime())) throw usageError(`${flag} needs an ISO 8601 time, not ${value}`);
  return at;
}
