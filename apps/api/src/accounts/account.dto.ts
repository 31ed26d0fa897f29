import { IsOptional, IsString, Matches } from 'class-validator';

/** No U+0000 and no unpaired surrogate: PostgreSQL `text` and `jsonb` cannot hold them (a 500 otherwise). */
const STORABLE_TEXT = /^[^\u0000\p{Cs}]*$/u;
const StorableText = () => Matches(STORABLE_TEXT, { each: true, message: 'FriendlyName must not contain NUL or unpaired surrogate characters' });

export class CreateAccountDto {
  /** 1–64 characters; absent: `SubAccount Created at YYYY-MM-DD hh:mm am`. */
  @IsOptional()
  @IsString({ message: 'FriendlyName must be a single string' })
  @StorableText()
  FriendlyName?: string;
}

export class UpdateAccountDto {
  @IsOptional()
  @IsString({ message: 'FriendlyName must be a single string' })
  @StorableText()
  FriendlyName?: string;

  /** `active`, `suspended` or `closed`; checked by the controller so that a bad value is 21475. */
  @IsOptional()
  Status?: unknown;
}

/** The list's query; anything else in the query string is ignored. Parsed by the controller. */
export class ListAccountsQueryDto {
  /** Compared with stored names, so it must be text the database can hold. */
  @IsOptional()
  @StorableText()
  FriendlyName?: unknown;

  @IsOptional() Status?: unknown;
  @IsOptional() PageSize?: unknown;
  @IsOptional() Page?: unknown;
  @IsOptional() PageToken?: unknown;
}
