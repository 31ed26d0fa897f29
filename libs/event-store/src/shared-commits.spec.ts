import { SharedCommits, type Settled } from './shared-commits';

/** A commit whose calls the test ends by hand; records each batch. */
function controlled<Item>() {
  const batches: Item[][] = [];
  const ends: ((settled: Settled<string>[] | Error) => void)[] = [];
  const commit = (items: readonly Item[]) =>
    new Promise<Settled<string>[]>((resolve, reject) => {
      batches.push([...items]);
      ends.push((outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
    });
  return { batches, ends, commit };
}

const ok = (value: string): Settled<string> => ({ ok: true, value });
/** Past the turn of the event loop on which the next call leaves. */
const tick = async () => {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
};

describe('SharedCommits', () => {
  it('commits an item at once when nothing is in flight, and the ones that arrive meanwhile together next', async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 1, maxBatch: 10 });
    const first = shared.submit(1);
    const rest = [2, 3, 4].map((n) => shared.submit(n));
    expect(c.batches).toEqual([[1]]);
    expect(shared.waiting).toBe(3);
    c.ends[0]([ok('one')]);
    await expect(first).resolves.toBe('one');
    await tick();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.ends[1]([ok('two'), ok('three'), ok('four')]);
    await expect(Promise.all(rest)).resolves.toEqual(['two', 'three', 'four']);
  });

  it('an item submitted by a caller just answered rides in the next call with those already waiting', async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 1, maxBatch: 10 });
    const again = shared.submit(1).then(() => shared.submit(4));
    const waiting = [2, 3].map((n) => shared.submit(n));
    c.ends[0]([ok('one')]);
    await tick();
    expect(c.batches).toEqual([[1], [2, 3, 4]]);
    c.ends[1]([ok('two'), ok('three'), ok('four')]);
    await expect(again).resolves.toBe('four');
    await expect(Promise.all(waiting)).resolves.toEqual(['two', 'three']);
  });

  it("reports each item's own failure and the others' results", async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 1, maxBatch: 10 });
    const a = shared.submit(1);
    const b = shared.submit(2);
    c.ends[0]([ok('a')]);
    await a;
    await tick();
    const refused = new Error('wrong version');
    c.ends[1]([{ ok: false, error: refused }]);
    await expect(b).rejects.toBe(refused);
  });

  it('fails every item of a batch whose commit throws, and goes on with the next batch', async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 1, maxBatch: 10 });
    const first = shared.submit(1);
    const second = shared.submit(2);
    const third = shared.submit(3);
    const lost = new Error('connection lost');
    c.ends[0](lost);
    await expect(first).rejects.toBe(lost);
    await tick();
    expect(c.batches[1]).toEqual([2, 3]);
    c.ends[1](lost);
    await expect(second).rejects.toBe(lost);
    await expect(third).rejects.toBe(lost);
    await tick();
    const fourth = shared.submit(4);
    c.ends[2]([ok('four')]);
    await expect(fourth).resolves.toBe('four');
  });

  it('fails the whole batch when the commit reports a different number of outcomes', async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 1, maxBatch: 10 });
    const one = shared.submit(1);
    c.ends[0]([ok('x'), ok('y')]);
    await expect(one).rejects.toThrow(/2 outcomes for 1 items/);
  });

  it('splits the queue at maxBatch and runs up to maxInFlight calls at once', async () => {
    const c = controlled<number>();
    const shared = new SharedCommits(c.commit, { maxInFlight: 2, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5, 6].map((n) => shared.submit(n));
    expect(c.batches).toEqual([[1], [2]]);
    c.ends[0]([ok('1')]);
    await tick();
    expect(c.batches).toEqual([[1], [2], [3, 4]]);
    c.ends[1]([ok('2')]);
    await tick();
    expect(c.batches).toEqual([[1], [2], [3, 4], [5, 6]]);
    c.ends[2]([ok('3'), ok('4')]);
    c.ends[3]([ok('5'), ok('6')]);
    await expect(Promise.all(all)).resolves.toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('refuses bounds below one', () => {
    expect(() => new SharedCommits(async () => [], { maxInFlight: 0, maxBatch: 1 })).toThrow(RangeError);
  });
});
