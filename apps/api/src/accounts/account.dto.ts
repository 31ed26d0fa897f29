import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { ACCOUNT_STATUSES } from '@accountable/twilio';

/** No U+0000 and no unpaired surrogate: PostgreSQL `text` and `jsonb` cannot hold them (a 500 otherwise). */
const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;
const StorableText = () => Matches(STORABLE_TEXT, { each: true, message: 'FriendlyName must not contain NUL or unpaired surrogate characters' });
/**
 * Optional, but only by absence: IsOptional would also wave through a JSON `null`, which is not a
 * name and would reach the domain as one (a 500).
 */
const OmittedOnly = () => ValidateIf((_object, value) => value !== undefined);

export class CreateAccountDto {
  /** 1–64 characters; absent: `SubAccount Created at YYYY-MM-DD hh:mm am`. */
  @ApiPropertyOptional({ description: '1–64 characters; default `SubAccount Created at YYYY-MM-DD hh:mm am` (UTC)', maxLength: 64 })
  @OmittedOnly()
  @IsString({ message: 'FriendlyName must be a single string' })
  @StorableText()
  FriendlyName?: string;
}

export class UpdateAccountDto {
  @ApiPropertyOptional({ description: '1–64 characters', maxLength: 64 })
  @OmittedOnly()
  @IsString({ message: 'FriendlyName must be a single string' })
  @StorableText()
  FriendlyName?: string;

  /**
   * `active`, `suspended` or `closed`. Checked once, by the controller's parseAccountStatus (a bad
   * value is 21475, not class-validator's 20002); the domain takes only an AccountStatus.
   */
  @ApiPropertyOptional({ enum: [...ACCOUNT_STATUSES], description: 'Only the owner changes a subaccount’s status; `closed` is final', type: String })
  @IsOptional()
  Status?: unknown;
}

/** The list's query; anything else in the query string is ignored. Parsed by the controller. */
export class ListAccountsQueryDto {
  /** Compared with stored names, so it must be text the database can hold. */
  @ApiPropertyOptional({ description: 'Exact, case-sensitive', type: String })
  @IsOptional()
  @StorableText()
  FriendlyName?: unknown;

  @ApiPropertyOptional({ enum: [...ACCOUNT_STATUSES], type: String }) @IsOptional() Status?: unknown;
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50, type: Number }) @IsOptional() PageSize?: unknown;
  @ApiPropertyOptional({ minimum: 0, type: Number }) @IsOptional() Page?: unknown;
  @ApiPropertyOptional({ description: 'From next_page_uri / previous_page_uri', type: String }) @IsOptional() PageToken?: unknown;
}
