import type { PageDirection } from './page-token.codec';

export interface KeysetWindowInput<T, K> {
  /**
   * Rows fetched with `LIMIT pageSize + 1`: in list order for the first page (direction null) and
   * for `after`, in reverse list order for `before` (the rows nearest the key come first).
   */
  rows: readonly T[];
  pageSize: number;
  direction: PageDirection | null;
  keyOf: (row: T) => K;
}

export interface KeysetWindow<T, K> {
  /** In list order. */
  items: T[];
  /** Encode as an `after` token; null when this is the last page. */
  nextKey: K | null;
  /** Encode as a `before` token; null when this is the first page. */
  previousKey: K | null;
}

/**
 * Cuts one page out of a keyset fetch and finds the keys of its neighbours. The extra row tells
 * whether a further page exists in the direction of travel; the other side is known to exist
 * because the cursor came from a row there. An empty page past a cursor offers no previous key
 * (there is no row to anchor it); the accounts envelope then links the offset page before it.
 */
export function keysetWindow<T, K>({ rows, pageSize, direction, keyOf }: KeysetWindowInput<T, K>): KeysetWindow<T, K> {
  const more = rows.length > pageSize;
  const taken = rows.slice(0, pageSize);
  if (direction === 'before') {
    const items = taken.reverse();
    return {
      items,
      nextKey: items.length > 0 ? keyOf(items[items.length - 1]!) : null,
      previousKey: more && items.length > 0 ? keyOf(items[0]!) : null,
    };
  }
  return {
    items: taken,
    nextKey: more && taken.length > 0 ? keyOf(taken[taken.length - 1]!) : null,
    previousKey: direction === 'after' && taken.length > 0 ? keyOf(taken[0]!) : null,
  };
}
