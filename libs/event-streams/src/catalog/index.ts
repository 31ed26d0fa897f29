export * from './event-types';
export * from './event-schemas';
export * from './cloud-event';
