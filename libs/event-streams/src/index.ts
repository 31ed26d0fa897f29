export * from './catalog';
export * from './egress';
export * from './webhook';
export * from './nats';
export * from './resources';
export * from './delivery';
