import type { FastifyInstance } from 'fastify';
import { TwilioErrors } from '@accountable/twilio';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface ParameterLimits {
  /** Parameters in one body, and in one query string (each occurrence of a repeated name counts). */
  maxParameters: number;
  /** Nesting of arrays and objects in a JSON body; a set of parameters is depth 1. */
  maxJsonDepth: number;
}

/**
 * Form and JSON bodies, decoded strictly. The stock parsers turn bytes that are not UTF-8 into
 * U+FFFD and keep a malformed percent-escape (`%FF`, `%E0%A4%A`) as literal text, so a garbled
 * name would be stored as if the client had meant it. Here either is 400 20002, and so is a body
 * or query string over the parameter count, or JSON nested too deep — each found in one linear
 * pass before anything is built from it. Registered in place of Nest's parsers (the app is
 * created with `bodyParser: false`).
 */
export function registerBodyParsers(fastify: FastifyInstance, limits: ParameterLimits): void {
  // Same settings as Nest's own JSON parser: `__proto__` / `constructor.prototype` keys are refused.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(JSON_TYPE);
  fastify.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
      checkJsonShape(text, limits);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  // Fastify reads text/plain as a string by default; it is no set of parameters: 415 like any
  // other type we do not take.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser(FORM, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseForm(decodeUtf8(body as Buffer), limits.maxParameters));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // The query string was parsed with the route (linear, and bounded by the header size limit);
  // counted here, after authentication and before the body is read.
  fastify.addHook('preParsing', (request, _reply, payload, done) => {
    const query = request.query as Record<string, unknown> | undefined;
    let count = 0;
    for (const name in query) {
      const value = query[name];
      count += Array.isArray(value) ? value.length : 1;
    }
    done(count > limits.maxParameters ? tooManyParameters(limits.maxParameters, 'query string') : null, payload);
  });
}

function decodeUtf8(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw TwilioErrors.invalidParameter('The request body is not valid UTF-8');
  }
}

/**
 * `a=1&b=2`, `+` for space. A name given twice becomes an array (the params pipe refuses it). A
 * prototype-less object, so a `__proto__` parameter is just an unknown parameter. Linear in the
 * text, repeats included; refused once it holds more than `maxParameters` pairs.
 */
export function parseForm(text: string, maxParameters = Number.POSITIVE_INFINITY): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null);
  let count = 0;
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      if (++count > maxParameters) throw tooManyParameters(maxParameters, 'body');
      // Searched within the pair only: `a&a&a…` must not scan to the end of the text each time.
      const pair = text.slice(start, end);
      const eq = pair.indexOf('=');
      const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeComponent(pair.slice(eq + 1));
      const previous = params[name];
      if (previous === undefined) params[name] = value;
      else if (Array.isArray(previous)) previous.push(value);
      else params[name] = [previous, value];
    }
    start = end + 1;
  }
  return params;
}

function decodeComponent(encoded: string): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    // decodeURIComponent refuses malformed escapes and escapes that do not spell UTF-8.
    throw TwilioErrors.invalidParameter('The request body has a malformed percent-escape or one that is not UTF-8');
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/**
 * One pass over JSON text, before it is parsed: refuses nesting deeper than `maxJsonDepth` (the
 * DTO transform recurses, and 100,000 levels overflowed its stack) and more than `maxParameters`
 * members at the top level. Only brackets outside strings count; whether the text is JSON at
 * all is the parser's business.
 */
export function checkJsonShape(text: string, limits: ParameterLimits): void {
  let depth = 0;
  let topLevelCommas = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // Skip the string: a backslash escapes the next character, whatever it is.
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxJsonDepth) throw TwilioErrors.invalidParameter(`The JSON body is nested deeper than ${limits.maxJsonDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === COMMA && depth === 1 && ++topLevelCommas >= limits.maxParameters) {
      throw tooManyParameters(limits.maxParameters, 'body');
    }
  }
}

function tooManyParameters(max: number, where: 'body' | 'query string') {
  return TwilioErrors.invalidParameter(`Too many parameters in the ${where} (at most ${max})`);
}
