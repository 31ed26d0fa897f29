export * from './nats-sink';
