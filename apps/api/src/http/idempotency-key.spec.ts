import type { FastifyRequest } from 'fastify';
import { TwilioError } from '@accountable/twilio';
import { idempotencyKeyOf } from './idempotency-key';

const SID = 'AC' + 'a'.repeat(32);
const PATH = '/2010-04-01/Accounts.json';

function request(keys: string[], method = 'POST'): FastifyRequest {
  const rawHeaders = keys.flatMap((k) => ['Idempotency-Key', k]);
  const headers = keys.length ? { 'idempotency-key': keys.join(', ') } : {};
  return { method, headers, raw: { rawHeaders } } as unknown as FastifyRequest;
}

const hashOf = (params: Record<string, string | undefined>, method = 'POST', path = PATH) =>
  idempotencyKeyOf(request(['k'], method), SID, path, params)!.requestHash;

describe('idempotencyKeyOf', () => {
  it('is undefined without the header, and scopes the key to the account', () => {
    expect(idempotencyKeyOf(request([]), SID, PATH, {})).toBeUndefined();
    expect(idempotencyKeyOf(request(['k 1']), SID, PATH, {})).toEqual({ accountSid: SID, key: 'k 1', requestHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('hashes the known parameters whatever their order; an absent one is left out', () => {
    expect(hashOf({ FriendlyName: 'a', Status: 'active' })).toBe(hashOf({ Status: 'active', FriendlyName: 'a' }));
    expect(hashOf({ FriendlyName: 'a', Status: undefined })).toBe(hashOf({ FriendlyName: 'a' }));
  });

  it('tells apart values, an empty value from an absent one, paths and methods', () => {
    const base = hashOf({ FriendlyName: 'a' });
    expect(hashOf({ FriendlyName: 'b' })).not.toBe(base);
    expect(hashOf({ FriendlyName: '' })).not.toBe(hashOf({}));
    expect(hashOf({ Status: 'a' })).not.toBe(base);
    expect(hashOf({ FriendlyName: 'a' }, 'PUT')).not.toBe(base);
    expect(hashOf({ FriendlyName: 'a' }, 'POST', `/2010-04-01/Accounts/${SID}.json`)).not.toBe(base);
  });

  it.each([[['']], [['k'.repeat(256)]], [['clé']], [['a\tb']], [['one', 'two']]])('refuses %p with 400 20002', (keys) => {
    let error: unknown;
    try {
      idempotencyKeyOf(request(keys), SID, PATH, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TwilioError);
    expect(error).toMatchObject({ status: 400, code: 20002 });
  });
});
