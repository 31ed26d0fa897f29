import { IsOptional, IsString } from 'class-validator';

export class CreateAccountDto {
  /** 1–64 characters; absent: `SubAccount Created at YYYY-MM-DD hh:mm am`. */
  @IsOptional()
  @IsString({ message: 'FriendlyName must be a single string' })
  FriendlyName?: string;
}

export class UpdateAccountDto {
  @IsOptional()
  @IsString({ message: 'FriendlyName must be a single string' })
  FriendlyName?: string;

  /** `active`, `suspended` or `closed`; checked by the controller so that a bad value is 21475. */
  @IsOptional()
  Status?: unknown;
}
