import type { RecordedEvent } from '@accountable/event-store';
import type { Keyring } from '@accountable/secrets';
import type { StreamCloudEvent } from '../catalog';
import { EgressRefusedError, checkedNatsServers, type DeliveryErrorCode, type EgressClient, type EgressPolicy } from '../egress';
import { NatsSink, natsSubject } from '../nats';
import { signWebhook } from '../webhook';
import type { DeliverySink } from './sink-state.store';

/** A CloudEvent on its way to a sink. */
export interface OutgoingEvent {
  cloudEvent: StreamCloudEvent | TestCloudEvent;
  /** The account it is about (NATS subjects are per account). */
  resourceSid: string;
}

/** An account change on its way, with the stored event it comes from. */
export interface PreparedEvent extends OutgoingEvent {
  event: RecordedEvent;
  cloudEvent: StreamCloudEvent;
}

export const TEST_EVENT_TYPE = 'com.twilio.eventstreams.test-event';

/** Twilio's Sink Test event (EVENT-STREAMS.md §3): what `POST /v1/Sinks/{Sid}/Test` sends. */
export interface TestCloudEvent {
  specversion: '1.0';
  type: typeof TEST_EVENT_TYPE;
  source: 'Sink';
  /** Twilio puts the account sid here. */
  id: string;
  dataschema: string;
  datacontenttype: 'application/json';
  time: string;
  data: { test_id: string };
}

export function testCloudEvent(accountSid: string, testId: string, at = new Date()): TestCloudEvent {
  return {
    specversion: '1.0',
    type: TEST_EVENT_TYPE,
    source: 'Sink',
    id: accountSid,
    dataschema: 'https://events-schemas.twilio.com/EventStreams.TestSink/1.json',
    datacontenttype: 'application/json',
    time: at.toISOString(),
    data: { test_id: testId },
  };
}

export type SendOutcome = { kind: 'delivered' } | { kind: 'retry' | 'drop'; code: DeliveryErrorCode; reason: string };

/** How one sink type sends: what goes in one request, and sending it. */
export interface SinkTransport {
  /** The events, in order, cut into what one attempt sends. */
  batches<E extends OutgoingEvent>(events: readonly E[]): E[][];
  send(batch: readonly OutgoingEvent[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Twilio's cap on a batched webhook body (EVENT-STREAMS.md §2: "64kB"). */
export const MAX_BATCH_BYTES = 64 * 1024;
/** Events per batched request, whatever their size. */
export const MAX_BATCH_EVENTS = 100;

/** The auth token that signs an account's deliveries: its primary, as it is when sending. */
export type SigningTokens = (accountSid: string) => Promise<string | null>;

/**
 * Webhooks as Twilio sends them: a JSON array of CloudEvents (one element unless `batch_events`),
 * POSTed signed (X-Twilio-Signature over the URL with bodySHA256), through the egress guard.
 */
export class WebhookTransport implements SinkTransport {
  private readonly destination: string;
  private readonly batched: boolean;

  constructor(
    private readonly sink: DeliverySink,
    private readonly egress: EgressClient,
    private readonly tokens: SigningTokens,
    keyring: Keyring,
  ) {
    const configuration = sink.configuration as { destination: string; batch_events: boolean };
    const url = new URL(configuration.destination);
    // The password is stored sealed beside the configuration, which shows **** in its place.
    if (sink.destinationPasswordSealed) url.password = encodeURIComponent(keyring.open(sink.destinationPasswordSealed, sink.sid));
    this.destination = url.toString();
    this.batched = configuration.batch_events === true;
  }

  batches<E extends OutgoingEvent>(events: readonly E[]): E[][] {
    if (!this.batched) return events.map((event) => [event]);
    const batches: E[][] = [];
    let current: E[] = [];
    let bytes = 2;
    for (const event of events) {
      const size = Buffer.byteLength(JSON.stringify(event.cloudEvent)) + 1;
      if (current.length > 0 && (current.length >= MAX_BATCH_EVENTS || bytes + size > MAX_BATCH_BYTES)) {
        batches.push(current);
        current = [];
        bytes = 2;
      }
      current.push(event);
      bytes += size;
    }
    if (current.length > 0) batches.push(current);
    return batches;
  }

  async send(batch: readonly OutgoingEvent[]): Promise<SendOutcome> {
    const token = await this.tokens(this.sink.accountSid);
    if (token === null) return { kind: 'retry', code: 91300, reason: "the sink's account has no auth token to sign with" };
    const body = JSON.stringify(batch.map((event) => event.cloudEvent));
    const signed = signWebhook(this.destination, body, token);
    const outcome = await this.egress.send({
      url: signed.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Accountable-EventStreams/1.0',
        'x-twilio-signature': signed.signature,
        ...(signed.authorization ? { authorization: signed.authorization } : {}),
      },
      body,
    });
    return outcome.kind === 'delivered' ? { kind: 'delivered' } : { kind: outcome.kind, code: outcome.code, reason: outcome.reason };
  }

  async close(): Promise<void> {}
}

/**
 * A JetStream stream: each CloudEvent one message on `<prefix>.<account>.<type>`, its id as
 * Nats-Msg-Id. The servers are checked by the egress policy when the connection is opened.
 */
export class NatsTransport implements SinkTransport {
  private sink?: Promise<NatsSink>;
  private readonly configuration: { servers: string[]; subject_prefix: string; stream: string };

  constructor(
    deliverySink: DeliverySink,
    private readonly policy: EgressPolicy,
    private readonly timeoutMs: number,
  ) {
    this.configuration = deliverySink.configuration as NatsTransport['configuration'];
  }

  batches<E extends OutgoingEvent>(events: readonly E[]): E[][] {
    const batches: E[][] = [];
    for (let i = 0; i < events.length; i += MAX_BATCH_EVENTS) batches.push(events.slice(i, i + MAX_BATCH_EVENTS));
    return batches;
  }

  async send(batch: readonly OutgoingEvent[]): Promise<SendOutcome> {
    let sink: NatsSink;
    try {
      sink = await this.open();
    } catch (error) {
      this.sink = undefined;
      if (error instanceof EgressRefusedError) return { kind: 'drop', code: 91300, reason: error.message };
      return { kind: 'retry', code: 91307, reason: `could not connect to NATS: ${describe(error)}` };
    }
    try {
      await sink.publish(
        batch.map(({ cloudEvent, resourceSid }) => ({
          subject: natsSubject(this.configuration.subject_prefix, resourceSid, cloudEvent.type),
          id: messageIdOf(cloudEvent),
          payload: JSON.stringify(cloudEvent),
        })),
      );
      return { kind: 'delivered' };
    } catch (error) {
      // Whatever NATS answered (no stream leader yet, a timeout while reconnecting): the batch
      // goes again; what it already stored, the duplicate window drops.
      return { kind: 'retry', code: /timeout/i.test(describe(error)) ? 91308 : 91300, reason: `NATS: ${describe(error)}` };
    }
  }

  async close(): Promise<void> {
    const sink = this.sink;
    this.sink = undefined;
    await (await sink?.catch(() => undefined))?.close();
  }

  private open(): Promise<NatsSink> {
    this.sink ??= (async () =>
      NatsSink.open({
        servers: await checkedNatsServers(this.configuration.servers, this.policy),
        stream: this.configuration.stream,
        subjectPrefix: this.configuration.subject_prefix,
        timeoutMs: this.timeoutMs,
      }))();
    return this.sink;
  }
}

/**
 * Nats-Msg-Id: the event id, so a redelivery is dropped by the stream's duplicate window. The
 * test event's `id` is the account sid (Twilio's), the same for every Test: its test id is what
 * tells one Test from the next, which the window would otherwise drop as a duplicate.
 */
function messageIdOf(cloudEvent: OutgoingEvent['cloudEvent']): string {
  return cloudEvent.type === TEST_EVENT_TYPE ? `test-${(cloudEvent as TestCloudEvent).data.test_id}` : cloudEvent.id;
}

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300);
