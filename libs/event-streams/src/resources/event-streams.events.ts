import type { SinkConfiguration, SinkType } from './sink-configuration';

/**
 * An account's Event Streams configuration is one stream: its sinks and subscriptions change
 * only by these events (who added which webhook, from where, is in the log and the ledger).
 * The stored `type` strings are fixed forever.
 */
export const EVENT_STREAMS_STREAM_PREFIX = 'event-streams-';

export const eventStreamsStreamId = (accountSid: string): string => `${EVENT_STREAMS_STREAM_PREFIX}${accountSid}`;

export const EventStreamsEventType = {
  SinkCreated: 'SinkCreated',
  SinkDescriptionChanged: 'SinkDescriptionChanged',
  SinkTestStarted: 'SinkTestStarted',
  SinkValidated: 'SinkValidated',
  SinkDeleted: 'SinkDeleted',
  SubscriptionCreated: 'SubscriptionCreated',
  SubscriptionDescriptionChanged: 'SubscriptionDescriptionChanged',
  SubscriptionDeleted: 'SubscriptionDeleted',
  SubscribedEventAdded: 'SubscribedEventAdded',
  SubscribedEventVersionChanged: 'SubscribedEventVersionChanged',
  SubscribedEventRemoved: 'SubscribedEventRemoved',
} as const;

export type SinkStatus = 'initialized' | 'validating' | 'active' | 'failed';

export interface SubscribedType {
  type: string;
  schemaVersion: number;
}

type E<T extends string, D> = { type: T; data: D };

export type EventStreamsEvent =
  | E<'SinkCreated', {
      sinkSid: string;
      accountSid: string;
      ownerAccountSid: string;
      description: string;
      sinkType: SinkType;
      sinkConfiguration: SinkConfiguration;
      /** Sealed (keyring, context = sink sid); never the password itself. */
      destinationPasswordSealed: string | null;
      status: SinkStatus;
    }>
  | E<'SinkDescriptionChanged', { sinkSid: string; previous: string; description: string }>
  | E<'SinkTestStarted', { sinkSid: string; testId: string }>
  | E<'SinkValidated', { sinkSid: string; testId: string }>
  | E<'SinkDeleted', { sinkSid: string }>
  | E<'SubscriptionCreated', {
      subscriptionSid: string;
      sinkSid: string;
      accountSid: string;
      ownerAccountSid: string;
      description: string;
      types: SubscribedType[];
    }>
  | E<'SubscriptionDescriptionChanged', { subscriptionSid: string; previous: string; description: string }>
  | E<'SubscriptionDeleted', { subscriptionSid: string; sinkSid: string }>
  | E<'SubscribedEventAdded', { subscriptionSid: string; type: string; schemaVersion: number }>
  | E<'SubscribedEventVersionChanged', { subscriptionSid: string; type: string; previous: number; schemaVersion: number }>
  | E<'SubscribedEventRemoved', { subscriptionSid: string; type: string }>;

const TYPES = new Set<string>(Object.values(EventStreamsEventType));

export function isEventStreamsEvent(event: { type: string; streamId?: string }): event is EventStreamsEvent {
  return TYPES.has(event.type) && (event.streamId === undefined || event.streamId.startsWith(EVENT_STREAMS_STREAM_PREFIX));
}
