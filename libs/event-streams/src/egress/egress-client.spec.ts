import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EgressClient, checkedNatsServers, type EgressClientOptions } from './egress-client';
import { EgressPolicy } from './egress-policy';

/** A receiver on the loopback whose answer each test chooses; it records what reached it. */
function receiver(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void) {
  const hits: { url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', body });
      answer(req, res);
    });
  });
  return {
    hits,
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    server,
  };
}

const ALLOW_LOOPBACK = EgressPolicy.allowing(['127.0.0.1']);
const post = (url: string) => ({ url, method: 'POST' as const, headers: { 'content-type': 'application/json' }, body: '[]' });
/** A resolver that answers `addresses` for every name. */
const answering =
  (...addresses: string[]): EgressClientOptions['resolve'] =>
  (_name, callback) =>
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );

describe('EgressClient', () => {
  const clients: EgressClient[] = [];
  const client = (policy: EgressPolicy, options?: EgressClientOptions) => {
    const c = new EgressClient(policy, options);
    clients.push(c);
    return c;
  };
  afterAll(() => clients.forEach((c) => c.close()));

  it('refuses a loopback destination, literal or by name, without connecting', async () => {
    const r = receiver((_req, res) => res.end());
    const port = await r.listen();
    try {
      const guarded = client(EgressPolicy.allowing([]), { resolve: answering('127.0.0.1') });
      for (const url of [`http://127.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://2130706433:${port}/`, `http://hooks.test:${port}/`]) {
        const outcome = await guarded.send(post(url));
        expect(outcome).toMatchObject({ kind: 'drop', status: null, code: 91300 });
        expect(outcome.kind !== 'delivered' && outcome.reason).toMatch(/loopback address; an operator may allow it with EGRESS_ALLOW/);
        expect(await guarded.check(url)).toMatch(/is refused: loopback address/);
      }
      expect(r.hits).toEqual([]);
    } finally {
      await r.close();
    }
  });

  it('reaches what EGRESS_ALLOW allows, and only at an allowed address of a name (no second lookup to rebind)', async () => {
    const r = receiver((_req, res) => res.writeHead(204).end());
    const port = await r.listen();
    try {
      // 127.0.0.2 is refused; the receiver listens on 127.0.0.1 only, so delivery proves the choice.
      let lookups = 0;
      const guarded = client(ALLOW_LOOPBACK, {
        resolve: (name, callback) => {
          lookups += 1;
          answering('127.0.0.2', '127.0.0.1')!(name, callback);
        },
      });
      expect(await guarded.check(`http://hooks.test:${port}/`)).toBeNull();
      expect(await guarded.send(post(`http://hooks.test:${port}/in?x=1`))).toEqual({ kind: 'delivered', status: 204 });
      expect(r.hits).toEqual([{ url: '/in?x=1', body: '[]' }]);
      expect(lookups).toBe(2); // one for check, one for the send's connection: the send's own lookup is the check
    } finally {
      await r.close();
    }
  });

  it('retries 5xx, 429, refused connections and timeouts; drops other answers and does not follow redirects', async () => {
    const target = receiver((_req, res) => res.end());
    const targetPort = await target.listen();
    let answer = 500;
    const r = receiver((_req, res) => {
      if (answer === 0) return; // never answers
      if (answer === 302) return res.writeHead(302, { location: `http://127.0.0.1:${targetPort}/` }).end();
      res.writeHead(answer).end('nope');
    });
    const port = await r.listen();
    try {
      const guarded = client(ALLOW_LOOPBACK, { timeoutMs: 300 });
      const url = `http://127.0.0.1:${port}/`;
      expect(await guarded.send(post(url))).toEqual({ kind: 'retry', status: 500, code: 91306, reason: 'HTTP 500: nope' });
      answer = 429;
      expect(await guarded.send(post(url))).toMatchObject({ kind: 'retry', status: 429 });
      answer = 404;
      expect(await guarded.send(post(url))).toMatchObject({ kind: 'drop', status: 404, code: 91305 });
      answer = 302;
      expect(await guarded.send(post(url))).toMatchObject({ kind: 'drop', status: 302, reason: expect.stringMatching(/redirects are not followed/) });
      expect(target.hits).toEqual([]);
      answer = 0;
      expect(await guarded.send(post(url))).toEqual({ kind: 'retry', status: null, code: 91308, reason: 'no answer within 300 ms' });
      await r.close();
      r.server.closeAllConnections();
      expect(await guarded.send(post(url))).toMatchObject({ kind: 'retry', status: null, code: 91307, reason: expect.stringMatching(/could not connect: ECONNREFUSED/) });
    } finally {
      await target.close();
      if (r.server.listening) await r.close();
    }
  });

  it('reads a response body only to its bound', async () => {
    const r = receiver((_req, res) => {
      res.writeHead(400);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      // Far more than the bound, and never ended: the client must not wait for the rest.
      const push = () => {
        while (res.write(chunk));
      };
      res.on('drain', push);
      push();
    });
    const port = await r.listen();
    try {
      // The client's timeout is beyond the test's: only the bound can end this exchange in time.
      const outcome = await client(ALLOW_LOOPBACK, { maxResponseBytes: 1024, timeoutMs: 120_000 }).send(post(`http://127.0.0.1:${port}/`));
      expect(outcome).toMatchObject({ kind: 'drop', status: 400 });
      expect(outcome.kind !== 'delivered' && outcome.reason.length).toBeLessThanOrEqual(220);
    } finally {
      r.server.closeAllConnections();
      await r.close();
    }
  }, 20_000);

  it('checks NATS servers and hands the client the checked addresses only', async () => {
    expect(await checkedNatsServers(['nats://127.0.0.1:4222'], ALLOW_LOOPBACK)).toEqual(['nats://127.0.0.1:4222']);
    expect(await checkedNatsServers(['nats://queue.test'], ALLOW_LOOPBACK, answering('127.0.0.2', '127.0.0.1', '::1'))).toEqual(['nats://127.0.0.1:4222']);
    await expect(checkedNatsServers(['nats://127.0.0.1:4222'], EgressPolicy.allowing([]))).rejects.toThrow(/loopback address/);
    await expect(checkedNatsServers(['nats://queue.test:4222'], ALLOW_LOOPBACK, answering('169.254.169.254'))).rejects.toThrow(/linkLocal address/);
    await expect(checkedNatsServers(['nats://u:p@127.0.0.1:4222'], ALLOW_LOOPBACK)).rejects.toThrow(/without credentials/);
    await expect(checkedNatsServers(['http://127.0.0.1:4222'], ALLOW_LOOPBACK)).rejects.toThrow(/nats:\/\/host:port/);
  });
});
