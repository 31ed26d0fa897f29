export * from './account.events';
export * from './account.errors';
export * from './account.state';
export * from './friendly-name.rules';
export * from './account-creation.decide';
export * from './account-update.decide';
export * from './main-account.decide';
export * from './owner-cascade.decide';
