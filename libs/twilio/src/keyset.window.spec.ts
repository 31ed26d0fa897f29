import { keysetWindow } from './keyset.window';

const keyOf = (n: number): number => n;

describe('keysetWindow', () => {
  it('first page: next when the extra row came back, never previous', () => {
    expect(keysetWindow({ rows: [1, 2, 3], pageSize: 2, direction: null, keyOf })).toEqual({ items: [1, 2], nextKey: 2, previousKey: null });
    expect(keysetWindow({ rows: [1, 2], pageSize: 2, direction: null, keyOf })).toEqual({ items: [1, 2], nextKey: null, previousKey: null });
    expect(keysetWindow({ rows: [], pageSize: 2, direction: null, keyOf })).toEqual({ items: [], nextKey: null, previousKey: null });
  });

  it('after a key: previous anchored on the first item', () => {
    expect(keysetWindow({ rows: [3, 4, 5], pageSize: 2, direction: 'after', keyOf })).toEqual({ items: [3, 4], nextKey: 4, previousKey: 3 });
    expect(keysetWindow({ rows: [5], pageSize: 2, direction: 'after', keyOf })).toEqual({ items: [5], nextKey: null, previousKey: 5 });
    expect(keysetWindow({ rows: [], pageSize: 2, direction: 'after', keyOf })).toEqual({ items: [], nextKey: null, previousKey: null });
  });

  it('before a key: rows arrive nearest first and come out in list order', () => {
    expect(keysetWindow({ rows: [4, 3, 2], pageSize: 2, direction: 'before', keyOf })).toEqual({ items: [3, 4], nextKey: 4, previousKey: 3 });
    expect(keysetWindow({ rows: [2, 1], pageSize: 2, direction: 'before', keyOf })).toEqual({ items: [1, 2], nextKey: 2, previousKey: null });
  });

  it('does not mutate the fetched rows', () => {
    const rows = [4, 3, 2];
    keysetWindow({ rows, pageSize: 2, direction: 'before', keyOf });
    expect(rows).toEqual([4, 3, 2]);
  });
});
