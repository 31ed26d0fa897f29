import { EventStreamsRuleError } from './event-streams.errors';
import type { EventStreamsEvent, SinkStatus, SubscribedType } from './event-streams.events';
import { findEventType, schemaVersionsOf, type EventTypeCatalog } from './event-type-catalog';
import type { ParsedSinkConfiguration } from './sink-configuration';

/** Our caps (Twilio's sink cap is 100, ERRDICT 91003). One subscription per sink caps those too. */
export const MAX_SINKS_PER_ACCOUNT = 100;
export const MAX_DESCRIPTION_CHARS = 255;

/** One account's Event Streams configuration, as the decisions need it (read under the stream's lock). */
export interface EventStreamsState {
  accountSid: string;
  sinks: ReadonlyMap<string, { status: SinkStatus; testId: string | null; subscriptionSid: string | null }>;
  subscriptions: ReadonlyMap<string, { sinkSid: string; types: ReadonlyMap<string, number> }>;
}

const rule = (reason: ConstructorParameters<typeof EventStreamsRuleError>[0], message: string) => new EventStreamsRuleError(reason, message);

/** 1–255 code points, not only white space (Twilio refuses an empty description, 91101). */
export function checkDescription(description: string, of: 'sink' | 'subscription'): string {
  const reason = of === 'sink' ? 'sink_description_invalid' : 'subscription_description_invalid';
  if (description.trim() === '') throw rule(reason, 'Description must not be empty');
  if ([...description].length > MAX_DESCRIPTION_CHARS) throw rule(reason, `Description must be at most ${MAX_DESCRIPTION_CHARS} characters`);
  return description;
}

function sinkOf(state: EventStreamsState, sinkSid: string) {
  const sink = state.sinks.get(sinkSid);
  if (!sink) throw rule('sink_not_found', `Sink ${sinkSid} was not found`);
  return sink;
}

function subscriptionOf(state: EventStreamsState, subscriptionSid: string) {
  const subscription = state.subscriptions.get(subscriptionSid);
  if (!subscription) throw rule('subscription_not_found', `Subscription ${subscriptionSid} was not found`);
  return subscription;
}

export interface CreateSinkInput {
  sinkSid: string;
  ownerAccountSid: string;
  description: string;
  parsed: ParsedSinkConfiguration;
  destinationPasswordSealed: string | null;
}

/** Webhook sinks start active, as Twilio's do (EVENT-STREAMS.md §3); so do ours over NATS. */
export function createSink(input: CreateSinkInput, state: EventStreamsState): EventStreamsEvent[] {
  checkDescription(input.description, 'sink');
  if (state.sinks.size >= MAX_SINKS_PER_ACCOUNT) throw rule('sink_limit', `An account may have at most ${MAX_SINKS_PER_ACCOUNT} sinks`);
  return [
    {
      type: 'SinkCreated',
      data: {
        sinkSid: input.sinkSid,
        accountSid: state.accountSid,
        ownerAccountSid: input.ownerAccountSid,
        description: input.description,
        sinkType: input.parsed.sinkType,
        sinkConfiguration: input.parsed.configuration,
        destinationPasswordSealed: input.destinationPasswordSealed,
        status: 'active',
      },
    },
  ];
}

export function updateSink(input: { sinkSid: string; description: string; previous: string }, state: EventStreamsState): EventStreamsEvent[] {
  sinkOf(state, input.sinkSid);
  checkDescription(input.description, 'sink');
  if (input.previous === input.description) return [];
  return [{ type: 'SinkDescriptionChanged', data: { sinkSid: input.sinkSid, previous: input.previous, description: input.description } }];
}

/** Twilio: a sink with a subscription cannot be deleted (91007). */
export function deleteSink(input: { sinkSid: string }, state: EventStreamsState): EventStreamsEvent[] {
  const sink = sinkOf(state, input.sinkSid);
  if (sink.subscriptionSid) throw rule('sink_in_use', `Sink ${input.sinkSid} is in use by subscription ${sink.subscriptionSid}`);
  return [{ type: 'SinkDeleted', data: { sinkSid: input.sinkSid } }];
}

/** A new Test supersedes the previous test id (DOC-TEST); the sink is `validating` until Validate. */
export function startSinkTest(input: { sinkSid: string; testId: string }, state: EventStreamsState): EventStreamsEvent[] {
  sinkOf(state, input.sinkSid);
  return [{ type: 'SinkTestStarted', data: { sinkSid: input.sinkSid, testId: input.testId } }];
}

/** Validate before any Test: 91004; another id: 91005, status unchanged (DOC-VAL). */
export function validateSink(input: { sinkSid: string; testId: string }, state: EventStreamsState): EventStreamsEvent[] {
  const sink = sinkOf(state, input.sinkSid);
  if (sink.testId === null) throw rule('test_not_found', `No test event was sent to sink ${input.sinkSid}`);
  if (sink.testId !== input.testId) throw rule('test_id_invalid', 'Test ID is invalid');
  return [{ type: 'SinkValidated', data: { sinkSid: input.sinkSid, testId: input.testId } }];
}

/** The type must be in the catalog and not discontinued; no version means its latest (Twilio's rule). */
export function resolveSubscribedType(catalog: EventTypeCatalog, type: string, schemaVersion: number | undefined): SubscribedType {
  const definition = findEventType(catalog, type);
  if (!definition) throw rule('event_type_not_found', `Event type ${type.slice(0, 200)} was not found`);
  if (definition.status === 'discontinued') throw rule('event_type_discontinued', `Type is discontinued: ${type}`);
  const versions = schemaVersionsOf(catalog, definition.schemaId);
  if (versions.length === 0) throw rule('schema_version_not_found', `Event type ${type} has no schema version`);
  if (schemaVersion === undefined) return { type, schemaVersion: versions[versions.length - 1].version };
  if (!versions.some((v) => v.version === schemaVersion)) {
    throw rule('schema_version_not_found', `Schema ${definition.schemaId} has no version ${schemaVersion}`);
  }
  return { type, schemaVersion };
}

export interface CreateSubscriptionInput {
  subscriptionSid: string;
  ownerAccountSid: string;
  sinkSid: string;
  description: string;
  types: readonly { type: string; schemaVersion?: number }[];
}

export function createSubscription(input: CreateSubscriptionInput, state: EventStreamsState, catalog: EventTypeCatalog): EventStreamsEvent[] {
  checkDescription(input.description, 'subscription');
  const sink = sinkOf(state, input.sinkSid);
  if (sink.status !== 'active') throw rule('sink_not_active', `Sink ${input.sinkSid} is not active (${sink.status})`);
  if (sink.subscriptionSid) throw rule('sink_in_use', `Sink with SID ${input.sinkSid} is in use`);
  if (input.types.length === 0) throw rule('subscription_types_empty', 'Types must name at least one event type');
  const seen = new Set<string>();
  const types = input.types.map(({ type, schemaVersion }) => {
    if (seen.has(type)) throw rule('subscription_types_duplicate', `Types names ${type.slice(0, 200)} twice`);
    seen.add(type);
    return resolveSubscribedType(catalog, type, schemaVersion);
  });
  return [
    {
      type: 'SubscriptionCreated',
      data: {
        subscriptionSid: input.subscriptionSid,
        sinkSid: input.sinkSid,
        accountSid: state.accountSid,
        ownerAccountSid: input.ownerAccountSid,
        description: input.description,
        types,
      },
    },
  ];
}

export function updateSubscription(input: { subscriptionSid: string; description: string; previous: string }, state: EventStreamsState): EventStreamsEvent[] {
  subscriptionOf(state, input.subscriptionSid);
  checkDescription(input.description, 'subscription');
  if (input.previous === input.description) return [];
  return [{ type: 'SubscriptionDescriptionChanged', data: { subscriptionSid: input.subscriptionSid, previous: input.previous, description: input.description } }];
}

/** Deleting a subscription leaves its sink as it was (LIVE: still active). */
export function deleteSubscription(input: { subscriptionSid: string }, state: EventStreamsState): EventStreamsEvent[] {
  const subscription = subscriptionOf(state, input.subscriptionSid);
  return [{ type: 'SubscriptionDeleted', data: { subscriptionSid: input.subscriptionSid, sinkSid: subscription.sinkSid } }];
}

export function addSubscribedEvent(
  input: { subscriptionSid: string; type: string; schemaVersion?: number },
  state: EventStreamsState,
  catalog: EventTypeCatalog,
): EventStreamsEvent[] {
  const subscription = subscriptionOf(state, input.subscriptionSid);
  if (subscription.types.has(input.type)) throw rule('subscription_types_duplicate', `Subscription ${input.subscriptionSid} already has type ${input.type}`);
  const resolved = resolveSubscribedType(catalog, input.type, input.schemaVersion);
  return [{ type: 'SubscribedEventAdded', data: { subscriptionSid: input.subscriptionSid, ...resolved } }];
}

export function updateSubscribedEvent(
  input: { subscriptionSid: string; type: string; schemaVersion?: number },
  state: EventStreamsState,
  catalog: EventTypeCatalog,
): EventStreamsEvent[] {
  const subscription = subscriptionOf(state, input.subscriptionSid);
  const previous = subscription.types.get(input.type);
  if (previous === undefined) throw rule('subscribed_event_not_found', `Subscription ${input.subscriptionSid} has no type ${input.type.slice(0, 200)}`);
  const resolved = resolveSubscribedType(catalog, input.type, input.schemaVersion);
  if (resolved.schemaVersion === previous) return [];
  return [{ type: 'SubscribedEventVersionChanged', data: { subscriptionSid: input.subscriptionSid, type: input.type, previous, schemaVersion: resolved.schemaVersion } }];
}

/** A subscription keeps at least one type (an empty one is refused at creation too, 91103). */
export function removeSubscribedEvent(input: { subscriptionSid: string; type: string }, state: EventStreamsState): EventStreamsEvent[] {
  const subscription = subscriptionOf(state, input.subscriptionSid);
  if (!subscription.types.has(input.type)) throw rule('subscribed_event_not_found', `Subscription ${input.subscriptionSid} has no type ${input.type.slice(0, 200)}`);
  if (subscription.types.size === 1) throw rule('subscription_types_empty', 'A subscription keeps at least one type: delete the subscription instead');
  return [{ type: 'SubscribedEventRemoved', data: { subscriptionSid: input.subscriptionSid, type: input.type } }];
}
