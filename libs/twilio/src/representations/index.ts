export * from './representation';
export * from './twilio-xml';
export * from './twilio-csv';
export * from './account.representations';
export * from './version.resource';
export * from './error.representations';
export * from './api-key.representations';
