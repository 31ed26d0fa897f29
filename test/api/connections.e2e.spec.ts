import { connect, type Socket } from 'node:net';
import { startTestApp, type TestApp } from '../support/test-app';
import { raw } from './accounts-api.helpers';

interface Probe {
  socket: Socket;
  /** What the server sent so far. */
  received(): string;
  /** Resolves once the server closed the connection (bounded by the test's own timeout). */
  closed: Promise<void>;
  connected: Promise<void>;
}

/** A raw connection from `localAddress` (any 127.x address reaches the loopback listener). */
function open(port: number, localAddress: string): Probe {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => undefined);
  return {
    socket,
    received: () => text,
    closed: new Promise((resolve) => socket.on('close', () => resolve())),
    connected: new Promise((resolve) => socket.on('connect', () => resolve())),
  };
}

/**
 * Slow and idle sockets are closed by the server's timeouts (answered 408 in the envelope when a
 * request had begun or was awaited), and one address cannot hold more than its share of
 * connections: the limits of app.factory.ts and connection-limits.ts, set small here.
 */
describe('idle and slow connections', () => {
  let t: TestApp;
  let port: number;
  const probes: Probe[] = [];
  const probe = (localAddress: string) => {
    const p = open(port, localAddress);
    probes.push(p);
    return p;
  };

  beforeAll(async () => {
    t = await startTestApp({
      env: { HTTP_HEADERS_TIMEOUT_MS: '500', HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_KEEP_ALIVE_TIMEOUT_MS: '500', HTTP_MAX_CONNECTIONS_PER_ADDRESS: '5' },
    });
    port = Number(new URL(t.baseUrl).port);
  });
  afterAll(async () => {
    for (const p of probes) p.socket.destroy();
    await t.close();
  });

  it('a connection that sends nothing, or its headers a byte at a time, is answered 408 and closed', async () => {
    const idle = probe('127.0.0.2');
    const slow = probe('127.0.0.2');
    await slow.connected;
    slow.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('X-Slow: y\r\n'), 100);
    try {
      await Promise.all([idle.closed, slow.closed]);
    } finally {
      clearInterval(drip);
    }
    for (const p of [idle, slow]) expect(p.received()).toMatch(/^HTTP\/1\.1 408 [\s\S]*"code":20002/);
  });

  it('a body that trickles past the request timeout is answered 408 and closed', async () => {
    const slow = probe('127.0.0.2');
    await slow.connected;
    const main = await t.createMain('Slow', 'Full');
    const auth = Buffer.from(`${main.sid}:${main.authToken}`).toString('base64');
    slow.socket.write(
      `POST /2010-04-01/Accounts.json HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${auth}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n`,
    );
    const drip = setInterval(() => slow.socket.writable && slow.socket.write('a'), 100);
    try {
      await slow.closed;
    } finally {
      clearInterval(drip);
    }
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('an idle kept-alive connection is closed after its answer', async () => {
    const kept = probe('127.0.0.2');
    await kept.connected;
    kept.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await kept.closed;
    expect(kept.received()).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('an address holding its share of connections has more closed at once; other addresses are served', async () => {
    const held = Array.from({ length: 5 }, () => probe('127.0.0.3'));
    await Promise.all(held.map((p) => p.connected));
    // Keep them from being closed as idle while this runs: each has begun a request.
    for (const p of held) p.socket.write('GET /health/live HTTP/1.1\r\n');
    const extra = probe('127.0.0.3');
    await extra.closed;
    expect(extra.received()).toBe('');
    expect((await raw(t, '/health/live')).status).toBe(200);
    // Once they are gone (and the server has seen them go), the address is served again.
    for (const p of held) p.socket.destroy();
    await Promise.all(held.map((p) => p.closed));
    let answer = '';
    for (let attempt = 0; attempt < 100 && answer === ''; attempt++) {
      const again = probe('127.0.0.3');
      again.socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      await again.closed;
      answer = again.received();
      if (answer === '') await new Promise((r) => setTimeout(r, 20));
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
  });
});
