import { createHash, createHmac } from 'node:crypto';

export interface SignedWebhook {
  /** The destination without credentials or fragment, with `bodySHA256` appended: where the request goes, and what was signed. */
  url: string;
  signature: string;
  /** `Basic …` when the destination carried `user:pass@` (Twilio sends it on every request). */
  authorization: string | null;
}

/**
 * Twilio's signature for a JSON body (twilio-node validateRequestWithBody): `bodySHA256` = hex
 * SHA-256 of the body appended to the URL's query, then base64 HMAC-SHA1 of that whole URL
 * keyed by the auth token; no parameters are appended, the body being JSON. The URL is signed
 * as sent, without the credentials: a receiver rebuilds it from the request line and Host,
 * which never carry them.
 */
export function signWebhook(destination: string, body: string, authToken: string): SignedWebhook {
  const url = new URL(destination);
  const authorization =
    url.username || url.password ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}` : null;
  url.username = '';
  url.password = '';
  url.hash = '';
  const bodyHash = createHash('sha256').update(body, 'utf8').digest('hex');
  // Appended as text: searchParams would re-encode the destination's own query (a space's %20
  // becoming +), and the receiver would then check a URL other than the one it was given.
  url.search = url.search === '' || url.search === '?' ? `?bodySHA256=${bodyHash}` : `${url.search}&bodySHA256=${bodyHash}`;
  const signed = url.toString();
  return { url: signed, signature: createHmac('sha1', authToken).update(signed, 'utf8').digest('base64'), authorization };
}
