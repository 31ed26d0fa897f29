import { TwilioError } from '@accountable/twilio';
import { parseForm } from './body-parsers';

describe('parseForm', () => {
  it('decodes names and values, `+` as a space, a bare name as empty', () => {
    expect({ ...parseForm('FriendlyName=caf%C3%A9+%F0%9F%98%80%2B&Status=active&Flag') }).toEqual({ FriendlyName: 'café 😀+', Status: 'active', Flag: '' });
    expect({ ...parseForm('') }).toEqual({});
    expect({ ...parseForm('&&a=1&') }).toEqual({ a: '1' });
  });

  it('keeps every value of a repeated name, in order', () => {
    expect({ ...parseForm('a=1&a=2&a=3') }).toEqual({ a: ['1', '2', '3'] });
  });

  it('treats __proto__ as an ordinary name', () => {
    const params = parseForm('__proto__=x&a=1');
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(params.__proto__).toBe('x');
  });

  it.each(['a=%FF', 'a=%E0%A4%A', 'a=%C0%AF', 'a=%ED%A0%80', 'a=%', 'a=%zz', '%FF=1'])('refuses %s with 400 20002', (body) => {
    let error: unknown;
    try {
      parseForm(body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TwilioError);
    expect(error).toMatchObject({ status: 400, code: 20002 });
  });
});
