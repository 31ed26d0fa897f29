import { CreateApiKeyHandler } from './create-api-key.command';
import { CreateMainAccountHandler } from './create-main-account.command';
import { CreateSecondaryAuthTokenHandler } from './create-secondary-auth-token.command';
import { CreateSubaccountHandler } from './create-subaccount.command';
import { DeleteApiKeyHandler } from './delete-api-key.command';
import { DeleteSecondaryAuthTokenHandler } from './delete-secondary-auth-token.command';
import { MainAccountOperationHandler } from './main-account-operation.command';
import { PromoteAuthTokenHandler } from './promote-auth-token.command';
import { RotateAuthTokenHandler } from './rotate-auth-token.command';
import { UpdateAccountHandler } from './update-account.command';
import { UpdateApiKeyHandler } from './update-api-key.command';

export { CreateApiKeyCommand } from './create-api-key.command';
export { CreateMainAccountCommand } from './create-main-account.command';
export { CreateSecondaryAuthTokenCommand, type IssuedAuthToken } from './create-secondary-auth-token.command';
export { CreateSubaccountCommand } from './create-subaccount.command';
export { DeleteApiKeyCommand } from './delete-api-key.command';
export { DeleteSecondaryAuthTokenCommand } from './delete-secondary-auth-token.command';
export { MainAccountOperationCommand } from './main-account-operation.command';
export { PromoteAuthTokenCommand } from './promote-auth-token.command';
export { RotateAuthTokenCommand } from './rotate-auth-token.command';
export { UpdateAccountCommand } from './update-account.command';
export { UpdateApiKeyCommand } from './update-api-key.command';

/** Provided by AccountsModule; Nest's CQRS explorer finds them among its providers. */
export const commandHandlers = [
  CreateApiKeyHandler,
  CreateMainAccountHandler,
  CreateSecondaryAuthTokenHandler,
  CreateSubaccountHandler,
  DeleteApiKeyHandler,
  DeleteSecondaryAuthTokenHandler,
  MainAccountOperationHandler,
  PromoteAuthTokenHandler,
  RotateAuthTokenHandler,
  UpdateAccountHandler,
  UpdateApiKeyHandler,
];
