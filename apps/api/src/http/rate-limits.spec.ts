import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { TwilioError } from '@accountable/twilio';
import { RateLimits, type RateLimitSettings } from './rate-limits';

const SID = `AC${'a'.repeat(32)}`;
const OTHER = `AC${'b'.repeat(32)}`;

/** What the limits read of a request: its address (as Fastify derived it) and its socket's. */
const from = (ip: string): FastifyRequest => ({ ip, socket: { remoteAddress: '127.0.0.1' }, routeOptions: { config: {} } }) as unknown as FastifyRequest;

async function refusal(attempt: Promise<void>): Promise<{ status: number; code: number; retryAfterS?: number } | null> {
  try {
    await attempt;
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(TwilioError);
    const e = error as TwilioError;
    return { status: e.status, code: e.code, retryAfterS: e.retryAfterS };
  }
}

describe('RateLimits', () => {
  let fastify: FastifyInstance;
  beforeAll(async () => {
    fastify = Fastify();
    await fastify.register(fastifyRateLimit, { global: false });
    await fastify.ready();
  });
  afterAll(() => fastify.close());

  const limits = (settings: Partial<RateLimitSettings>, capacity?: number) =>
    new RateLimits(
      fastify,
      { requestsPerAccount: 0, requestsWindowS: 60, authFailuresPerAddress: 0, authFailuresPerAccount: 0, authFailuresWindowS: 60, ...settings },
      capacity,
    );

  it('an address that used up its failures gets 429 20429 with Retry-After before any check; other addresses do not', async () => {
    const l = limits({ authFailuresPerAddress: 3, authFailuresWindowS: 30 });
    for (let i = 0; i < 3; i++) {
      expect(await refusal(l.admitAttempt(from('10.0.0.1'), SID, 'wrong'))).toBeNull();
      await l.failed(from('10.0.0.1'), SID);
    }
    const refused = await refusal(l.admitAttempt(from('10.0.0.1'), OTHER, 'anything'));
    expect(refused).toMatchObject({ status: 429, code: 20429 });
    expect(refused!.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(refused!.retryAfterS).toBeLessThanOrEqual(30);
    // Malformed credentials (no sid) are refused the same way.
    expect(await refusal(l.admitAttempt(from('10.0.0.1'), null, ''))).toMatchObject({ status: 429 });
    expect(await refusal(l.admitAttempt(from('10.0.0.2'), SID, 'wrong'))).toBeNull();
  });

  it('IPv6 addresses count by their /64; an address that is not an IP counts as its socket’s peer', async () => {
    const l = limits({ authFailuresPerAddress: 1 });
    await l.failed(from('2001:db8:1:2::1'), null);
    expect(await refusal(l.admitAttempt(from('2001:db8:1:2::ffff'), null, ''))).toMatchObject({ status: 429 });
    expect(await refusal(l.admitAttempt(from('2001:db8:1:3::1'), null, ''))).toBeNull();
    await l.failed(from('x'.repeat(3000)), null);
    expect(await refusal(l.admitAttempt(from('127.0.0.1'), null, ''))).toMatchObject({ status: 429 });
  });

  it('a sid that used up its failures, from many addresses, is refused unchecked — except with a password that succeeded before', async () => {
    const l = limits({ authFailuresPerAddress: 100, authFailuresPerAccount: 5 });
    l.succeeded(SID, 'the right token');
    for (let i = 0; i < 5; i++) await l.failed(from(`10.1.0.${i}`), SID);
    expect(await refusal(l.admitAttempt(from('10.2.0.1'), SID, 'a guess'))).toMatchObject({ status: 429, code: 20429 });
    // The account's own client goes on (its credentials are then checked in full as usual).
    expect(await refusal(l.admitAttempt(from('10.2.0.1'), SID, 'the right token'))).toBeNull();
    // Another sid is not affected.
    expect(await refusal(l.admitAttempt(from('10.2.0.1'), OTHER, 'a guess'))).toBeNull();
  });

  it('a password known for one sid does not pass for another', async () => {
    const l = limits({ authFailuresPerAccount: 1 });
    l.succeeded(SID, 'token');
    await l.failed(from('10.3.0.1'), OTHER);
    expect(await refusal(l.admitAttempt(from('10.3.0.2'), OTHER, 'token'))).toMatchObject({ status: 429 });
  });

  it('counts each account’s requests: the one past the limit is 429 with Retry-After; other accounts are apart', async () => {
    const l = limits({ requestsPerAccount: 3, requestsWindowS: 60 });
    for (let i = 0; i < 3; i++) expect(await refusal(l.admitRequest(from('10.4.0.1'), SID))).toBeNull();
    const refused = await refusal(l.admitRequest(from('10.4.0.2'), SID));
    expect(refused).toMatchObject({ status: 429, code: 20429 });
    expect(refused!.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(await refusal(l.admitRequest(from('10.4.0.1'), OTHER))).toBeNull();
  });

  it('0 turns a limit off', async () => {
    const l = limits({});
    for (let i = 0; i < 50; i++) {
      await l.failed(from('10.5.0.1'), SID);
      await l.admitRequest(from('10.5.0.1'), SID);
    }
    expect(await refusal(l.admitAttempt(from('10.5.0.1'), SID, 'x'))).toBeNull();
  });

  it('holds at most its capacity of keys: under a flood of distinct ones the oldest are forgotten', async () => {
    const l = limits({ authFailuresPerAddress: 1, authFailuresPerAccount: 1 }, 3);
    await l.failed(from('10.6.0.1'), SID);
    expect(await refusal(l.admitAttempt(from('10.6.0.1'), null, ''))).toMatchObject({ status: 429 });
    for (let i = 2; i <= 4; i++) await l.failed(from(`10.6.0.${i}`), `AC${String(i).repeat(32)}`);
    expect(await refusal(l.admitAttempt(from('10.6.0.1'), SID, 'x'))).toBeNull();
    // The known passwords are bounded the same way.
    for (const sid of [SID, OTHER, `AC${'c'.repeat(32)}`, `AC${'d'.repeat(32)}`]) l.succeeded(sid, 'p');
    await l.failed(from('10.6.1.1'), SID);
    expect(await refusal(l.admitAttempt(from('10.6.1.2'), SID, 'p'))).toMatchObject({ status: 429 });
  });
});
