/**
 * Builds `path?A=1&B=2` with parameters in the given order, dropping undefined/null ones.
 * encodeURIComponent (not URLSearchParams) so spaces are `%20` and `:` is `%3A`, as in Twilio's
 * own URIs, and every value survives a round trip through any query parser.
 */
export function withQuery(path: string, params: ReadonlyArray<readonly [string, string | number | null | undefined]>): string {
  const parts = params
    .filter((entry): entry is readonly [string, string | number] => entry[1] !== undefined && entry[1] !== null)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}

/** Normalises `http://host:port/` and `http://host:port` to the latter. */
export function trimBaseUrl(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
