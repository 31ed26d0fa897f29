import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { AccountReader } from '@accountable/accounts';
import type { Database } from '@accountable/database';
import { DB, RUNTIME, type Runtime } from '@accountable/platform';
import { Keyring } from '@accountable/secrets';
import { EgressClient, EgressPolicy } from '../egress';
import { SinkStateStore, type DeliverySink } from './sink-state.store';
import { NatsTransport, WebhookTransport, testCloudEvent, type SendOutcome, type SinkTransport } from './sink-transports';

/** Twilio's webhook timeout; NATS acknowledgements get the same. */
export const SEND_TIMEOUT_MS = 5000;

/**
 * What sends to sinks, for delivery and for the Sink Test: one egress client (the SSRF guard
 * with EGRESS_ALLOW, kept-alive connections) and the signing tokens, in every process role.
 */
@Injectable()
export class SinkSenders implements OnApplicationShutdown {
  readonly egress: EgressClient;
  private readonly sinks: SinkStateStore;

  constructor(
    @Inject(RUNTIME) runtime: Runtime,
    @Inject(DB) db: Kysely<Database>,
    private readonly accounts: AccountReader,
    private readonly keyring: Keyring,
  ) {
    this.egress = new EgressClient(EgressPolicy.allowing(runtime.config.EGRESS_ALLOW), { timeoutMs: SEND_TIMEOUT_MS });
    this.sinks = new SinkStateStore(db);
  }

  /** A sink's transport as it is configured now. */
  open(sink: DeliverySink): SinkTransport {
    return sink.sinkType === 'nats'
      ? new NatsTransport(sink, this.egress.policy, SEND_TIMEOUT_MS)
      : new WebhookTransport(sink, this.egress, (account) => this.signingToken(account), this.keyring);
  }

  /**
   * Sends Twilio's test event (`POST /v1/Sinks/{Sid}/Test`) once, signed as deliveries are, and
   * says how it went; null when the sink does not exist. Not retried: the caller's Validate is
   * the retry.
   */
  async sendTest(sinkSid: string, testId: string): Promise<SendOutcome | null> {
    const sink = await this.sinks.load(sinkSid);
    if (!sink) return null;
    const transport = this.open(sink);
    try {
      return await transport.send([{ cloudEvent: testCloudEvent(sink.accountSid, testId), resourceSid: sink.accountSid }]);
    } finally {
      await transport.close();
    }
  }

  onApplicationShutdown(): void {
    this.egress.close();
  }

  /** The account's primary auth token as the service knows it now: a delivery after a promotion is signed with the new one. */
  private async signingToken(accountSid: string): Promise<string | null> {
    return (await this.accounts.find(accountSid, true))?.authToken ?? null;
  }
}
