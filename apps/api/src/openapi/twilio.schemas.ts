import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ACCOUNT_STATUSES } from '@accountable/twilio';

/**
 * Response shapes for the OpenAPI document, field for field as Twilio's spec describes them
 * (api_v2010_accounts and monitor_v1_events). They document; the wire format itself is built
 * by libs/twilio.
 */

const SUBRESOURCES = [
  'available_phone_numbers', 'calls', 'conferences', 'incoming_phone_numbers', 'notifications', 'outgoing_caller_ids',
  'recordings', 'transcriptions', 'addresses', 'signing_keys', 'sip', 'queues', 'short_codes', 'messages',
  'authorized_connect_apps', 'connect_apps', 'usage', 'keys', 'applications', 'balance',
];

export class TwilioErrorSchema {
  @ApiProperty({ example: 20404, description: "Twilio's error code" }) code!: number;
  @ApiProperty({ example: 'The requested resource /2010-04-01/Accounts/AC….json was not found' }) message!: string;
  @ApiProperty({ example: 'https://www.twilio.com/docs/errors/20404' }) more_info!: string;
  @ApiProperty({ example: 404, description: 'The HTTP status' }) status!: number;
}

export class AccountSchema {
  @ApiProperty({ description: 'The authorization token for this account', example: '0123456789abcdef0123456789abcdef' }) auth_token!: string;
  @ApiProperty({ description: 'RFC 2822, GMT', example: 'Thu, 30 Jul 2015 20:00:00 +0000' }) date_created!: string;
  @ApiProperty({ description: 'RFC 2822, GMT', example: 'Thu, 30 Jul 2015 20:00:00 +0000' }) date_updated!: string;
  @ApiProperty({ description: '1–64 characters', example: 'customer 42' }) friendly_name!: string;
  @ApiProperty({ description: 'The parent account; a main account is its own owner', pattern: '^AC[0-9a-f]{32}$' }) owner_account_sid!: string;
  @ApiProperty({ pattern: '^AC[0-9a-f]{32}$' }) sid!: string;
  @ApiProperty({ enum: [...ACCOUNT_STATUSES] }) status!: string;
  @ApiProperty({
    description: "The account's subresources, each /2010-04-01/Accounts/{sid}/<Name>.json",
    type: 'object',
    properties: Object.fromEntries(SUBRESOURCES.map((k) => [k, { type: 'string' }])),
  })
  subresource_uris!: Record<string, string>;
  @ApiProperty({ enum: ['Trial', 'Full'] }) type!: string;
  @ApiProperty({ example: '/2010-04-01/Accounts/AC00000000000000000000000000000000.json' }) uri!: string;
}

export class AccountPageSchema {
  @ApiProperty({ type: [AccountSchema] }) accounts!: AccountSchema[];
  @ApiProperty() end!: number;
  @ApiProperty() first_page_uri!: string;
  @ApiProperty({ nullable: true, type: String }) next_page_uri!: string | null;
  @ApiProperty() page!: number;
  @ApiProperty() page_size!: number;
  @ApiProperty({ nullable: true, type: String }) previous_page_uri!: string | null;
  @ApiProperty() start!: number;
  @ApiProperty() uri!: string;
}

class EventLinksSchema {
  @ApiProperty({ nullable: true, type: String }) actor!: string | null;
  @ApiProperty() resource!: string;
}

export class MonitorEventSchema {
  @ApiProperty({ pattern: '^AC[0-9a-f]{32}$', description: 'The main account the event belongs to' }) account_sid!: string;
  @ApiProperty({ nullable: true, type: String }) actor_sid!: string | null;
  @ApiProperty({ enum: ['account', 'operator', 'system'] }) actor_type!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { friendly_name: { previous: 'a', updated: 'b' } } })
  event_data!: Record<string, unknown>;
  @ApiProperty({ description: 'ISO 8601', example: '2015-07-30T20:00:00Z' }) event_date!: string;
  @ApiProperty({ enum: ['account.created', 'account.updated'] }) event_type!: string;
  @ApiProperty() resource_sid!: string;
  @ApiProperty({ example: 'account' }) resource_type!: string;
  @ApiProperty({ pattern: '^AE[0-9a-f]{32}$' }) sid!: string;
  @ApiProperty({ enum: ['api', 'cli', 'system'] }) source!: string;
  @ApiProperty({ nullable: true, type: String }) source_ip_address!: string | null;
  @ApiProperty() url!: string;
  @ApiProperty({ type: EventLinksSchema }) links!: EventLinksSchema;
}

class EventsMetaSchema {
  @ApiProperty() page!: number;
  @ApiProperty() page_size!: number;
  @ApiProperty() first_page_url!: string;
  @ApiProperty({ nullable: true, type: String }) previous_page_url!: string | null;
  @ApiProperty() url!: string;
  @ApiProperty({ nullable: true, type: String }) next_page_url!: string | null;
  @ApiProperty({ example: 'events' }) key!: string;
}

export class EventsPageSchema {
  @ApiProperty({ type: [MonitorEventSchema] }) events!: MonitorEventSchema[];
  @ApiProperty({ type: EventsMetaSchema }) meta!: EventsMetaSchema;
}

export class EventsQuerySchema {
  @ApiPropertyOptional({ description: 'Only one of ActorSid, EventType, ResourceSid, SourceIpAddress at a time' }) ActorSid?: string;
  @ApiPropertyOptional({ enum: ['account.created', 'account.updated'] }) EventType?: string;
  @ApiPropertyOptional() ResourceSid?: string;
  @ApiPropertyOptional() SourceIpAddress?: string;
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' }) StartDate?: string;
  @ApiPropertyOptional({ description: 'ISO 8601, inclusive' }) EndDate?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50 }) PageSize?: number;
  @ApiPropertyOptional({ minimum: 0 }) Page?: number;
  @ApiPropertyOptional() PageToken?: string;
}

export class ApiKeySchema {
  @ApiProperty({ pattern: '^SK[0-9a-fA-F]{32}$' }) sid!: string;
  @ApiProperty({ description: 'Up to 64 characters; null when none was given', nullable: true, type: String }) friendly_name!: string | null;
  @ApiProperty({ description: 'RFC 2822, GMT', example: 'Thu, 30 Jul 2015 20:00:00 +0000' }) date_created!: string;
  @ApiProperty({ description: 'RFC 2822, GMT', example: 'Thu, 30 Jul 2015 20:00:00 +0000' }) date_updated!: string;
}

export class NewApiKeySchema extends ApiKeySchema {
  @ApiProperty({ description: '32 base62 characters, returned only here: it is stored only as a verifier' }) secret!: string;
}

export class ApiKeyPageSchema {
  @ApiProperty({ type: [ApiKeySchema], description: '`signing_keys` on the SigningKeys path' }) keys!: ApiKeySchema[];
  @ApiProperty() end!: number;
  @ApiProperty() first_page_uri!: string;
  @ApiProperty({ nullable: true, type: String }) next_page_uri!: string | null;
  @ApiProperty() page!: number;
  @ApiProperty() page_size!: number;
  @ApiProperty({ nullable: true, type: String }) previous_page_uri!: string | null;
  @ApiProperty() start!: number;
  @ApiProperty() uri!: string;
}

export class SecondaryAuthTokenSchema {
  @ApiProperty({ pattern: '^AC[0-9a-f]{32}$' }) account_sid!: string;
  @ApiProperty({ description: 'ISO 8601', example: '2015-07-31T04:00:00Z' }) date_created!: string;
  @ApiProperty({ description: 'ISO 8601', example: '2015-07-31T04:00:00Z' }) date_updated!: string;
  @ApiProperty({ description: '32 hex characters; shown here only (GET /2010-04-01/Accounts/{Sid}.json shows the primary)' }) secondary_auth_token!: string;
  @ApiProperty({ example: 'http://127.0.0.1:3000/v1/AuthTokens/Secondary' }) url!: string;
}

export class AuthTokenPromotionSchema {
  @ApiProperty({ pattern: '^AC[0-9a-f]{32}$' }) account_sid!: string;
  @ApiProperty({ description: 'The new primary auth token' }) auth_token!: string;
  @ApiProperty({ description: 'ISO 8601: the promotion', example: '2015-07-31T04:00:00Z' }) date_created!: string;
  @ApiProperty({ description: 'ISO 8601: the promotion', example: '2015-07-31T04:00:00Z' }) date_updated!: string;
  @ApiProperty({ example: 'http://127.0.0.1:3000/v1/AuthTokens/Promote' }) url!: string;
}

/** The ledger's signed tree head (our addition; README "The ledger"). */
export class LedgerHeadSchema {
  @ApiProperty({ description: 'Events the head covers, in feed order', example: 1234 }) tree_size!: number;
  @ApiProperty({ description: 'RFC 9162 Merkle tree root over their leaf hashes, hex', pattern: '^[0-9a-f]{64}$' }) root_hash!: string;
  @ApiProperty({ description: 'When it was signed, milliseconds since the epoch' }) timestamp!: number;
  @ApiProperty({ description: 'ISO 8601', example: '2026-12-05T12:07:48.123Z' }) signed_at!: string;
  @ApiProperty({ description: 'First 16 bytes of SHA-256 over the public key, hex' }) key_id!: string;
  @ApiProperty({ description: 'Ed25519 public key, raw, hex', pattern: '^[0-9a-f]{64}$' }) public_key!: string;
  @ApiProperty({ description: 'Ed25519 signature of the head message (README), hex', pattern: '^[0-9a-f]{128}$' }) signature!: string;
  @ApiPropertyOptional() url?: string;
}

/** An inclusion proof (our addition). */
export class LedgerProofSchema {
  @ApiProperty({ pattern: '^AE[0-9a-f]{32}$' }) event_sid!: string;
  @ApiProperty({ format: 'uuid' }) event_id!: string;
  @ApiProperty({ description: "The event's position in feed order, from 0" }) leaf_index!: number;
  @ApiProperty({ description: 'SHA-256(0x00 || canonical encoding), hex', pattern: '^[0-9a-f]{64}$' }) leaf_hash!: string;
  @ApiProperty() tree_size!: number;
  @ApiProperty({ type: [String], description: 'RFC 9162 audit path, hex, bottom up' }) inclusion_path!: string[];
  @ApiProperty({ type: LedgerHeadSchema }) head!: LedgerHeadSchema;
  @ApiProperty() url!: string;
}
