export * from './event-streams.errors';
export * from './event-streams.events';
export * from './event-type-catalog';
export * from './sink-configuration';
export { checkDescription, MAX_DESCRIPTION_CHARS, MAX_SINKS_PER_ACCOUNT, type EventStreamsState } from './event-streams.decide';
export { EventStreamsCommands, newSinkSid, newSubscriptionSid, type SinkTestAnswer, type SinkValidateAnswer, type StartedSinkTest } from './event-streams.commands';
export { EventStreamsReader, type SinkRecord, type SubscriptionRecord, type SubscribedEventRecord, type RecordPage } from './event-streams.reader';
export { assertSinkReachable } from './sink-egress';
