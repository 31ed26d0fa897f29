import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { normalizeIP, type CreateRateLimitOptions } from '@fastify/rate-limit';
import { TwilioErrors } from '@accountable/twilio';
import { clientAddressOf } from './client-address';

export interface RateLimitSettings {
  /** 0: no limit. */
  requestsPerAccount: number;
  requestsWindowS: number;
  authFailuresPerAddress: number;
  authFailuresPerAccount: number;
  authFailuresWindowS: number;
}

/**
 * Keys each counter holds at most (least recently used forgotten first), so a flood of distinct
 * addresses or sids costs bounded memory: about 200 bytes a key.
 */
export const RATE_LIMIT_CAPACITY = 50_000;

type Counter = ReturnType<FastifyInstance['createRateLimit']>;

/**
 * The service's three rate limits, each a fixed window counted in this process's memory by
 * @fastify/rate-limit's store (README, "Rate limits": with N API processes, a client can reach N
 * times each limit):
 * - failed authentications per client address, and per account sid the credentials named,
 *   checked before any work on a request's credentials;
 * - requests per authenticated account, counted once the credentials are good.
 *
 * An attacker who knows an account's sid can use up that sid's failures (from several addresses:
 * the per-account limit is above the per-address one). Then requests naming it are refused
 * unchecked — except those whose password already succeeded on this process (a digest kept in
 * memory), so the account's running clients go on working; only a client this process has not
 * seen succeed waits out the window. The auth token has 128 random bits, so the limits are not
 * what stops guessing: they stop the flood of work.
 */
export class RateLimits {
  private readonly perAddress?: Counter;
  private readonly perCredential?: Counter;
  private readonly perAccount?: Counter;
  private readonly sids = new WeakMap<FastifyRequest, string>();
  private readonly known?: KnownPasswords;

  constructor(fastify: FastifyInstance, settings: RateLimitSettings, capacity = RATE_LIMIT_CAPACITY) {
    const counter = (max: number, windowS: number, keyGenerator: (request: FastifyRequest) => string): Counter | undefined =>
      max > 0
        ? // `cache` sizes the counter's LRU store (the plugin reads it from these options; its types omit it).
          fastify.createRateLimit({ max, timeWindow: windowS * 1000, keyGenerator, cache: capacity } as CreateRateLimitOptions)
        : undefined;
    const sidOf = (request: FastifyRequest) => this.sids.get(request)!;
    this.perAddress = counter(settings.authFailuresPerAddress, settings.authFailuresWindowS, addressKeyOf);
    this.perCredential = counter(settings.authFailuresPerAccount, settings.authFailuresWindowS, sidOf);
    this.perAccount = counter(settings.requestsPerAccount, settings.requestsWindowS, sidOf);
    if (this.perAddress || this.perCredential) this.known = new KnownPasswords(capacity);
  }

  /** Before credentials are checked: 429 when their address or sid has no failures left. */
  async admitAttempt(request: FastifyRequest, sid: string | null, password: string): Promise<void> {
    let waitS = 0;
    if (this.perAddress) waitS = exhausted(await this.perAddress(request, { increment: false }));
    if (sid !== null && this.perCredential) {
      this.sids.set(request, sid);
      waitS = Math.max(waitS, exhausted(await this.perCredential(request, { increment: false })));
    }
    if (waitS > 0 && !(sid !== null && this.known!.has(sid, password))) {
      throw TwilioErrors.tooManyRequests(waitS, 'Too many failed authentications; retry after the time in Retry-After');
    }
  }

  async failed(request: FastifyRequest, sid: string | null): Promise<void> {
    if (this.perAddress) await this.perAddress(request);
    if (sid !== null && this.perCredential) {
      this.sids.set(request, sid);
      await this.perCredential(request);
    }
  }

  succeeded(sid: string, password: string): void {
    this.known?.add(sid, password);
  }

  /** Counts an authenticated request against its account: 429 beyond the account's rate. */
  async admitRequest(request: FastifyRequest, sid: string): Promise<void> {
    if (!this.perAccount) return;
    this.sids.set(request, sid);
    const result = await this.perAccount(request);
    if (!result.isAllowed && result.isExceeded) {
      throw TwilioErrors.tooManyRequests(result.ttlInSeconds, 'Too many requests for this account; retry after the time in Retry-After');
    }
  }
}

/** Seconds until the window ends when no failure is left in it; 0 otherwise. */
function exhausted(result: Awaited<ReturnType<Counter>>): number {
  return !result.isAllowed && result.remaining === 0 ? Math.max(1, result.ttlInSeconds) : 0;
}

/** IPv6 clients by their /64 (what one host is usually given); anything unparseable by its peer. */
function addressKeyOf(request: FastifyRequest): string {
  return normalizeIP(clientAddressOf(request) ?? request.socket.remoteAddress ?? 'unknown');
}

/**
 * The password that last succeeded for each sid, as a SHA-256 digest (never the password), so
 * that an account's own clients pass a failure limit someone else used up. Bounded: the least
 * recently added goes first.
 */
class KnownPasswords {
  private readonly digests = new Map<string, Buffer>();

  constructor(private readonly capacity: number) {}

  has(sid: string, password: string): boolean {
    const known = this.digests.get(sid);
    // Compared in constant time, and against a stand-in when the sid is unknown.
    return timingSafeEqual(known ?? NOBODY, digestOf(password)) && known !== undefined;
  }

  add(sid: string, password: string): void {
    this.digests.delete(sid);
    if (this.digests.size >= this.capacity) this.digests.delete(this.digests.keys().next().value!);
    this.digests.set(sid, digestOf(password));
  }
}

const NOBODY = Buffer.alloc(32);

function digestOf(password: string): Buffer {
  return createHash('sha256').update(password, 'utf8').digest();
}
