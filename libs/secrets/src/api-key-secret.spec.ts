import { apiKeySecretMatches, apiKeySecretVerifier, newApiKeySecret } from './api-key-secret';

describe('API key secrets', () => {
  it('are 32 base62 characters, different each time', () => {
    const a = newApiKeySecret();
    expect(a).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(newApiKeySecret()).not.toBe(a);
  });

  it('are stored as a salted verifier that holds nothing of the secret and matches only it', () => {
    const secret = newApiKeySecret();
    const verifier = apiKeySecretVerifier(secret);
    expect(verifier).toMatch(/^v1\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(verifier).not.toContain(secret);
    expect(apiKeySecretVerifier(secret)).not.toBe(verifier);
    expect(apiKeySecretMatches(verifier, secret)).toBe(true);
    expect(apiKeySecretMatches(verifier, secret.slice(1))).toBe(false);
    expect(apiKeySecretMatches(verifier, '')).toBe(false);
  });

  it('a malformed verifier matches nothing', () => {
    expect(apiKeySecretMatches('', '')).toBe(false);
    expect(apiKeySecretMatches('v1.x.y', 'x')).toBe(false);
  });
});
