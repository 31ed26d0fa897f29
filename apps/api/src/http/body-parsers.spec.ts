import { TwilioError } from '@accountable/twilio';
import { checkJsonShape, parseForm } from './body-parsers';

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

  it('is linear in repeats: 100,000 of one name are parsed at once (quadratic copying took minutes)', () => {
    const params = parseForm(Array.from({ length: 100_000 }, (_, i) => `a=${i}`).join('&'));
    expect(params.a).toHaveLength(100_000);
    expect((params.a as string[])[99_999]).toBe('99999');
    // Bare names with no `=` anywhere after them: each pair is searched for `=` on its own.
    expect(parseForm('a&'.repeat(100_000)).a).toHaveLength(100_000);
  });

  it('refuses more pairs than the limit, counting repeats and not empty pairs, before decoding the rest', () => {
    expect(Object.keys(parseForm('a=1&b=2&&c=3&', 3))).toEqual(['a', 'b', 'c']);
    expect(parseForm('a=1&a=2&a=3', 3).a).toEqual(['1', '2', '3']);
    expect(() => parseForm('a=1&b=2&c=3&d=4', 3)).toThrow(expect.objectContaining({ status: 400, code: 20002 }));
    expect(() => parseForm('a&'.repeat(20_000), 100)).toThrow(expect.objectContaining({ status: 400, code: 20002 }));
    // The pair past the limit is malformed, and is never decoded: the count decides first.
    expect(() => parseForm('a=1&b=%FF', 1)).toThrow(/Too many parameters/);
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

describe('checkJsonShape', () => {
  const limits = { maxParameters: 3, maxJsonDepth: 3 };
  const refused = (text: string) => {
    try {
      checkJsonShape(text, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(TwilioError);
      return (error as TwilioError).code;
    }
    return null;
  };

  it('lets through what is within both limits, brackets and commas inside strings not counted', () => {
    for (const text of ['{}', '{"a":1,"b":[1,[2]],"c":"x"}', '[[[]]]', '{"a":"[[[[{{{{,,,,"}', '{"a":"\\\\","b":"[[[["}', '{"a":"\\"[[[["}', 'not json at all', '"{{{{{{"']) {
      expect(refused(text)).toBeNull();
    }
  });

  it('refuses nesting deeper than the limit, objects and arrays alike: 400 20002', () => {
    expect(refused('[[[[]]]]')).toBe(20002);
    expect(refused('{"a":{"b":{"c":{}}}}')).toBe(20002);
    expect(refused('{"a":[{"b":[]}]}')).toBe(20002);
  });

  it('refuses more top-level members than the parameter limit; nested ones do not count', () => {
    expect(refused('{"a":1,"b":2,"c":3,"d":4}')).toBe(20002);
    expect(refused('[1,2,3,4]')).toBe(20002);
    expect(refused('{"a":[1,2,3,4,5,6],"b":{"x":1,"y":2,"z":3,"w":4}}')).toBeNull();
  });

  it('scans 100,000 levels without recursion, and a 1 MiB string at once', () => {
    expect(refused('['.repeat(100_000) + ']'.repeat(100_000))).toBe(20002);
    expect(refused(`{"a":"${'['.repeat(1024 * 1024)}"}`)).toBeNull();
  });
});
