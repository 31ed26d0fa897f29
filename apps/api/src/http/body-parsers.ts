import type { FastifyInstance } from 'fastify';
import { TwilioErrors } from '@accountable/twilio';

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Form and JSON bodies, decoded strictly. The stock parsers turn bytes that are not UTF-8 into
 * U+FFFD and keep a malformed percent-escape (`%FF`, `%E0%A4%A`) as literal text, so a garbled
 * name would be stored as if the client had meant it. Here either is 400 20002.
 * Registered in place of Nest's parsers (the app is created with `bodyParser: false`).
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  // Same settings as Nest's own JSON parser: `__proto__` / `constructor.prototype` keys are refused.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser(JSON_TYPE);
  fastify.addContentTypeParser(JSON_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    parseJson(request, text, done);
  });
  fastify.addContentTypeParser(FORM, { parseAs: 'buffer' }, (_request, body, done) => {
    try {
      done(null, parseForm(decodeUtf8(body as Buffer)));
    } catch (error) {
      done(error as Error, undefined);
    }
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
 * prototype-less object, so a `__proto__` parameter is just an unknown parameter.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = Object.create(null);
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    const previous = params[name];
    params[name] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
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
