import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, ValidateIf } from 'class-validator';

/** No U+0000 and no unpaired surrogate: PostgreSQL `text` and `jsonb` cannot hold them. */
const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;

/** Create and update take the same one parameter; its length (70001) is the domain's rule. */
export class ApiKeyDto {
  @ApiPropertyOptional({ description: 'Up to 64 characters (70001 beyond); absent on create: null', maxLength: 64 })
  @ValidateIf((_object, value) => value !== undefined)
  @IsString({ message: 'FriendlyName must be a single string' })
  @Matches(STORABLE_TEXT, { message: 'FriendlyName must not contain NUL or unpaired surrogate characters' })
  FriendlyName?: string;
}

export class ListApiKeysQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 1000, default: 50, type: Number }) @IsOptional() PageSize?: unknown;
  @ApiPropertyOptional({ minimum: 0, type: Number }) @IsOptional() Page?: unknown;
}
