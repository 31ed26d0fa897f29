import { newAuthToken, safeEqual } from './auth-token.util';

describe('auth tokens', () => {
  it('are 32 lowercase hex characters, fresh each time', () => {
    const token = newAuthToken();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(newAuthToken()).not.toBe(token);
  });
});

describe('safeEqual', () => {
  it('compares by value', () => {
    const token = newAuthToken();
    expect(safeEqual(token, `${token}`)).toBe(true);
    expect(safeEqual(token, newAuthToken())).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });

  it('handles different lengths without throwing', () => {
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', 'a')).toBe(false);
    expect(safeEqual('é', 'e')).toBe(false);
  });
});
