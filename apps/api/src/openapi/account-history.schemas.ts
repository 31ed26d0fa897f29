import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { STATUS_CHANGE_REASONS } from '@accountable/accounts';
import { ACCOUNT_STATUSES } from '@accountable/twilio';

/** Response shapes of our addition, the account history and state-at (libs/twilio/account-history.resource.ts). */

const SID = '^AC[0-9a-f]{32}$';
const EVENT_SID = '^AE[0-9a-f]{32}$';

export class AccountSnapshotSchema {
  @ApiProperty({ pattern: SID }) sid!: string;
  @ApiProperty({ example: 'customer 42' }) friendly_name!: string;
  @ApiProperty({ pattern: SID }) owner_account_sid!: string;
  @ApiProperty({ enum: [...ACCOUNT_STATUSES] }) status!: string;
  @ApiProperty({ enum: ['Trial', 'Full'] }) type!: string;
  @ApiProperty({ nullable: true, type: String, description: 'RFC 2822, GMT' }) date_created!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'RFC 2822, GMT' }) date_updated!: string | null;
  @ApiProperty({ description: 'The number of events folded into this state' }) version!: number;
}

export class HistoryEventLinkSchema {
  @ApiProperty({ pattern: EVENT_SID }) sid!: string;
  @ApiProperty({ pattern: SID }) account_sid!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ example: 'AccountStatusChanged' }) type!: string;
}

export class AccountHistoryEventSchema {
  @ApiProperty({ pattern: EVENT_SID, description: 'Audited events are also /v1/Events/{sid}' }) sid!: string;
  @ApiProperty({ description: 'Position in the account’s history, from 1' }) version!: number;
  @ApiProperty({
    enum: ['MainAccountCreated', 'SubaccountCreated', 'SubaccountAdded', 'SubaccountReleased', 'AccountRenamed', 'AccountStatusChanged', 'AccountUpgraded'],
  })
  type!: string;
  @ApiProperty({ description: 'ISO 8601 with milliseconds', example: '2026-11-27T22:41:32.142Z' }) recorded_at!: string;
  @ApiProperty({ nullable: true, enum: ['account', 'operator', 'system'] }) actor_type!: string | null;
  @ApiProperty({ nullable: true, type: String }) actor_sid!: string | null;
  @ApiProperty({ nullable: true, enum: ['api', 'cli', 'system'] }) source!: string | null;
  @ApiProperty({ nullable: true, type: String }) source_ip_address!: string | null;
  @ApiProperty({ nullable: true, type: String }) user_agent!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The Twilio-Request-Id of the request that made it' }) request_id!: string | null;
  @ApiProperty({ nullable: true, enum: [...STATUS_CHANGE_REASONS], description: 'Status changes only' })
  reason!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'SubaccountAdded / SubaccountReleased only' }) subaccount_sid!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { friendly_name: { previous: 'a', updated: 'b' } } })
  changes!: Record<string, unknown>;
  @ApiProperty({ type: AccountSnapshotSchema, description: 'The account after this event' }) state!: AccountSnapshotSchema;
  @ApiProperty({ type: HistoryEventLinkSchema, nullable: true, description: 'The parent event of a cascade, if the caller may see its account' })
  caused_by!: HistoryEventLinkSchema | null;
  @ApiProperty({ type: [HistoryEventLinkSchema], description: 'Events this one caused (at most 100)' }) caused!: HistoryEventLinkSchema[];
  @ApiProperty() caused_more!: boolean;
}

export class AccountHistoryPageSchema {
  @ApiProperty({ pattern: SID }) account_sid!: string;
  @ApiProperty({ description: 'The account’s version now (events in its whole history)' }) version!: number;
  @ApiProperty({ type: [AccountHistoryEventSchema], description: 'Oldest first' }) history!: AccountHistoryEventSchema[];
  @ApiProperty() end!: number;
  @ApiProperty() first_page_uri!: string;
  @ApiProperty({ nullable: true, type: String }) next_page_uri!: string | null;
  @ApiProperty() page!: number;
  @ApiProperty() page_size!: number;
  @ApiProperty({ nullable: true, type: String }) previous_page_uri!: string | null;
  @ApiProperty() start!: number;
  @ApiProperty() uri!: string;
}

export class AccountStateSchema {
  @ApiProperty({ pattern: SID }) account_sid!: string;
  @ApiProperty({ nullable: true, type: Number }) requested_version!: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'The last instant AsOf covers, ISO 8601' }) as_of!: string | null;
  @ApiProperty({ type: AccountSnapshotSchema, nullable: true, description: 'null: the account did not exist yet' }) state!: AccountSnapshotSchema | null;
  @ApiProperty({ type: AccountSnapshotSchema }) current!: AccountSnapshotSchema;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { friendly_name: { then: 'a', now: 'b' } } })
  differences!: Record<string, unknown>;
  @ApiProperty() uri!: string;
}

export class AccountHistoryQuerySchema {
  @ApiPropertyOptional({ description: '1–1000, default 50' }) PageSize?: number;
  @ApiPropertyOptional({ description: 'From 0: versions Page × PageSize + 1 onwards' }) Page?: number;
}

export class AccountStateQuerySchema {
  @ApiPropertyOptional({ description: 'A version from 1 to the current one' }) Version?: number;
  @ApiPropertyOptional({ description: 'ISO 8601 date or date-time, inclusive at the precision written', example: '2026-11-27T22:41:34Z' })
  AsOf?: string;
}
