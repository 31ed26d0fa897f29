/**
 * The rules a sink or subscription change can break, by name. The wire's status and Twilio code
 * for each are the HTTP edge's business (apps/api/src/event-streams/event-streams.errors.ts).
 */
export type EventStreamsRuleReason =
  | 'sink_configuration_invalid'
  | 'sink_type_unsupported'
  | 'sink_description_invalid'
  | 'sink_destination_refused'
  | 'sink_not_found'
  | 'sink_sid_invalid'
  | 'sink_limit'
  | 'sink_in_use'
  | 'sink_not_active'
  | 'test_not_found'
  | 'test_id_invalid'
  | 'subscription_description_invalid'
  | 'subscription_not_found'
  | 'subscription_types_empty'
  | 'subscription_types_invalid'
  | 'subscription_types_duplicate'
  | 'event_type_not_found'
  | 'event_type_discontinued'
  | 'schema_version_not_found'
  | 'subscribed_event_not_found'
  | 'schema_not_found';

export class EventStreamsRuleError extends Error {
  override readonly name = 'EventStreamsRuleError';

  constructor(
    readonly reason: EventStreamsRuleReason,
    message: string,
  ) {
    super(message);
  }
}

export const isEventStreamsRuleError = (error: unknown): error is EventStreamsRuleError => error instanceof EventStreamsRuleError;
