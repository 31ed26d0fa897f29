import { API_VERSION_PATH } from '../account.resource';

/** The formats of the 2010 API (Twilio's "Response formats"). The v1 APIs speak JSON only. */
export type Representation = 'json' | 'xml' | 'csv';

export const MEDIA_TYPES: Readonly<Record<Representation, string>> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const SUFFIXES: ReadonlyArray<readonly [string, Representation]> = [
  ['.json', 'json'],
  ['.xml', 'xml'],
  ['.csv', 'csv'],
];

/**
 * The format a request path asks for. Under `/2010-04-01` only the URL's suffix decides — no
 * suffix means XML, and the Accept header is ignored, as Twilio does; errors follow the same
 * rule, so an unknown `/2010-04-01/…` path is a 404 in XML. Everything else (Monitor v1, our own
 * `/v1/Accounts/…`, health) is JSON.
 */
export function representationOfPath(path: string): Representation {
  if (path !== API_VERSION_PATH && !path.startsWith(`${API_VERSION_PATH}/`) && !path.startsWith(`${API_VERSION_PATH}.`)) return 'json';
  for (const [suffix, representation] of SUFFIXES) if (path.endsWith(suffix)) return representation;
  return 'xml';
}

/** `Accounts/{Sid}` with its optional suffix: the bare name, or null when the suffix is none of ours. */
export function withoutSuffix(segment: string): { name: string; representation: Representation } {
  for (const [suffix, representation] of SUFFIXES) {
    if (segment.endsWith(suffix)) return { name: segment.slice(0, -suffix.length), representation };
  }
  return { name: segment, representation: 'xml' };
}

/**
 * A JSON `uri` as the XML representation writes it: without the `.json` extension (Twilio's XML
 * URIs have none, and a URI without one answers in XML). The query string is kept as it is.
 */
export function uriWithoutExtension(uri: string): string {
  const query = uri.indexOf('?');
  const path = query < 0 ? uri : uri.slice(0, query);
  const rest = query < 0 ? '' : uri.slice(query);
  return (path.endsWith('.json') ? path.slice(0, -'.json'.length) : path) + rest;
}
