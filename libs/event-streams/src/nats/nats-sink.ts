import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';

/** One message: its subject, its id (Nats-Msg-Id) and the CloudEvent's JSON. */
export interface NatsMessage {
  subject: string;
  id: string;
  payload: string;
}

/**
 * The duplicate window of a stream we create: a message id seen within it is stored once, so a
 * redelivery after a crash (the batch whose checkpoint did not commit) adds nothing as long as
 * the service is back within the window. A stream that exists keeps its own window.
 */
export const NATS_DUPLICATE_WINDOW_MS = 60 * 60 * 1000;

/**
 * `<subject_prefix>.<account sid>.<type>`: one subject per account and type, so a consumer
 * filters with NATS wildcards (`prefix.AC….>`, `prefix.*.com.twilio.iam.account.closed`). The
 * type's dots make it several tokens; account sids and our types hold no wildcard or space.
 */
export function natsSubject(prefix: string, accountSid: string, type: string): string {
  return `${prefix}.${accountSid}.${type}`;
}

export interface NatsSinkOptions {
  /** Addresses to connect to, already resolved and checked by the egress policy (`nats://ip:port`). */
  servers: string[];
  stream: string;
  subjectPrefix: string;
  /** Per publish: no acknowledgement within it is a failure to retry. */
  timeoutMs?: number;
  name?: string;
}

/**
 * Publishes to a JetStream stream, creating it when missing. The connection reconnects by itself
 * (forever, as the client allows); a publish while disconnected fails within the timeout and
 * the delivery retries it. Servers the cluster gossips are ignored: only the checked addresses
 * are ever connected to.
 */
export class NatsSink {
  private streamReady = false;

  private constructor(
    private readonly connection: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly options: NatsSinkOptions,
  ) {}

  static async open(options: NatsSinkOptions): Promise<NatsSink> {
    const connection = await connect({
      servers: options.servers,
      name: options.name ?? 'accountable-event-streams',
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      ignoreClusterUpdates: true,
      timeout: options.timeoutMs ?? 5000,
    });
    return new NatsSink(connection, jetstream(connection, { timeout: options.timeoutMs ?? 5000 }), options);
  }

  /** Creates the stream (subjects `<prefix>.>`) unless it exists; an existing one is left as it is. */
  async ensureStream(): Promise<void> {
    if (this.streamReady) return;
    const jsm = await jetstreamManager(this.connection, { timeout: this.options.timeoutMs ?? 5000 });
    try {
      await jsm.streams.info(this.options.stream);
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound)) throw error;
      await jsm.streams.add({
        name: this.options.stream,
        subjects: [`${this.options.subjectPrefix}.>`],
        duplicate_window: NATS_DUPLICATE_WINDOW_MS * 1_000_000,
      });
    }
    this.streamReady = true;
  }

  /**
   * Publishes `messages` in order, each awaiting its acknowledgement: a failure leaves the ones
   * before it stored and none after it, so a retry from the start keeps each account's order
   * (the ones already stored are duplicates the stream drops). Returns how many were duplicates.
   */
  async publish(messages: readonly NatsMessage[]): Promise<{ duplicates: number }> {
    await this.ensureStream();
    let duplicates = 0;
    for (const message of messages) {
      const headers = natsHeaders();
      headers.set('Content-Type', 'application/cloudevents+json; charset=utf-8');
      const ack = await this.js.publish(message.subject, message.payload, { msgID: message.id, headers });
      if (ack.duplicate) duplicates += 1;
    }
    return { duplicates };
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}
