import http from 'node:http';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import type { StreamCloudEvent } from '@accountable/event-streams';

export interface ReceivedRequest {
  /** As the request line gave it (path and query). */
  path: string;
  signature: string | undefined;
  body: string;
  /** The body's CloudEvents; empty when it was not a JSON array. */
  events: StreamCloudEvent[];
  /** Date.now() when the body had arrived. */
  receivedAt: number;
  /** What the receiver answered. */
  status: number;
}

/** What to answer the n-th request (0-based); `null`: never answer (a hanging receiver). */
export type Answer = (request: ReceivedRequest, n: number) => number | null;

export interface WebhookReceiver {
  url(path?: string): string;
  readonly requests: ReceivedRequest[];
  /** Every CloudEvent of the requests answered 2xx, in arrival order. */
  delivered(): StreamCloudEvent[];
  answer: Answer;
  /** Whether twilio-node's validator accepts the request for `authToken`. */
  valid(request: ReceivedRequest, authToken: string): boolean;
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1, recording every request (tests allow it with EGRESS_ALLOW=127.0.0.1). */
export async function startWebhookReceiver(answer: Answer = () => 200): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let events: StreamCloudEvent[] = [];
      try {
        const parsed = JSON.parse(body);
        if (Array.isArray(parsed)) events = parsed;
      } catch {
        // recorded as it came
      }
      const request: ReceivedRequest = { path: req.url ?? '', signature: req.headers['x-twilio-signature'] as string | undefined, body, events, receivedAt: Date.now(), status: 0 };
      const status = receiver.answer(request, requests.length);
      requests.push(request);
      if (status === null) return; // hangs until the sender gives up
      request.status = status;
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const receiver: WebhookReceiver = {
    url: (path = '/events') => `${base}${path}`,
    requests,
    delivered: () => requests.filter((r) => r.status >= 200 && r.status < 300).flatMap((r) => r.events),
    answer,
    valid: (request, authToken) => request.signature !== undefined && twilio.validateRequestWithBody(authToken, request.signature, `${base}${request.path}`, request.body),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return receiver;
}

/** Polls `read` until `done` holds (or throws after `timeoutMs`); returns the last value read. */
export async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
