/** One item's result within a shared commit: its own value or its own error. */
export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface SharedCommitsOptions {
  /**
   * Database calls running at once. 1: every item that arrives while a call is in flight waits
   * for it and goes in the next one, so a call's latency (its round trip and its WAL flush) is
   * shared by everything that arrived meanwhile.
   */
  maxInFlight: number;
  /** Items per call at most; the rest wait for the next call. */
  maxBatch: number;
}

/**
 * Shared ("group") commits: items submitted while a commit is in flight travel together in the
 * next one. `commit` writes a whole batch in one database call, one transaction, and reports each
 * item's outcome on its own; if it throws, every item of that batch gets its error (nothing of a
 * failed batch is acknowledged). An item alone (nothing in flight) is committed at once, so
 * without concurrency this adds no wait.
 *
 * Generic: the event store's appends use it (`EventStore.append`), and any other write made of
 * independent items committed by one SQL call can (a command's commit); `writeBatch` is the
 * `commit` both give it.
 */
export class SharedCommits<Item, Result> {
  private readonly queue: { item: Item; resolve: (value: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    private readonly commit: (items: readonly Item[]) => Promise<readonly Settled<Result>[]>,
    private readonly options: SharedCommitsOptions,
  ) {
    if (!(options.maxInFlight >= 1 && options.maxBatch >= 1)) throw new RangeError('SharedCommits needs maxInFlight and maxBatch of at least 1');
  }

  submit(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Items waiting for a call (for tests and metrics). */
  get waiting(): number {
    return this.queue.length;
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      this.inFlight++;
      void this.run(this.queue.splice(0, this.options.maxBatch));
    }
  }

  private async run(batch: SharedCommits<Item, Result>['queue']): Promise<void> {
    try {
      const settled = await this.commit(batch.map((b) => b.item));
      if (settled.length !== batch.length) throw new Error(`a shared commit reported ${settled.length} outcomes for ${batch.length} items`);
      settled.forEach((s, i) => (s.ok ? batch[i].resolve(s.value) : batch[i].reject(s.error)));
    } catch (error) {
      for (const b of batch) b.reject(error);
    } finally {
      // The next call leaves on the next turn of the event loop, not now: the callers just
      // answered usually submit again in their continuations (microtasks, which all run before
      // it), and they should ride together in that call instead of the first going alone.
      setImmediate(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }
}

/** How a batch of independent items is written: each alone, or all in one statement. */
export interface BatchWriter<Item, Row, Result> {
  /** One item in its own call (its own transaction, or the caller's). */
  alone(item: Item): Promise<Row>;
  /** Every item in one statement: one row per item, numbered from 1 in the batch's order (`item`). */
  together(items: readonly Item[]): Promise<readonly (Row & { item: number })[]>;
  /** The item's result from its row, or the typed error that says why it failed. */
  result(item: Item, row: Row): Result;
  /** The SQL function `together` calls, for the error when it leaves an item without a row. */
  name: string;
}

/**
 * A shared commit's batch (the `commit` of SharedCommits) written through `writer`: one item
 * alone; several together. If the server undid the statement (undoneByServer: it raised because of
 * what one item held or met), nothing of it committed, so each item is written again alone and
 * only the one that raised fails. Any other error (a lost connection: the outcome is unknown)
 * fails every item of the batch, none acknowledged.
 */
export async function writeBatch<Item, Row, Result>(batch: readonly Item[], writer: BatchWriter<Item, Row, Result>): Promise<Settled<Result>[]> {
  const eachAlone = () => Promise.all(batch.map((item) => settle(async () => writer.result(item, await writer.alone(item)))));
  if (batch.length === 1) return eachAlone();
  const rows = await writer.together(batch).catch((error: unknown) => {
    if (!undoneByServer(error)) throw error;
    return undefined;
  });
  if (!rows) return eachAlone();
  const byItem = new Map(rows.map((row) => [row.item, row]));
  const ordered = batch.map((_, i) => {
    const row = byItem.get(i + 1);
    if (!row) throw new Error(`${writer.name} reported no outcome for item ${i + 1} of ${batch.length}`);
    return row;
  });
  return batch.map((item, i) => settleNow(() => writer.result(item, ordered[i])));
}

async function settle<R>(run: () => Promise<R>): Promise<Settled<R>> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    return { ok: false, error };
  }
}

function settleNow<R>(run: () => R): Settled<R> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * An error the server raised for a shared commit's statement (severity ERROR) because of what
 * one of its items (appends, command commits) held or met: its data (class 22), a constraint (23, a concurrent duplicate event id), a
 * deadlock or serialisation failure (40), a limit (54), a lock (55) or a statement timeout
 * (57014). The transaction was rolled back and nothing of it committed. Not so for a lost
 * connection, or a FATAL that may come after the commit's flush (a server crash ends every session
 * with one); and an error of the statement itself (a missing function: a migration not applied)
 * would only repeat, so it fails the batch instead of hiding behind items committed one by one.
 */
function undoneByServer(error: unknown): boolean {
  const { severity, code } = (error ?? {}) as { severity?: unknown; code?: unknown };
  return severity === 'ERROR' && typeof code === 'string' && (/^(22|23|40|54|55)/.test(code) || code === '57014');
}
