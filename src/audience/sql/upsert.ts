import { emailKey } from '../key.js';
import { mergeSubscriber } from '../merge.js';
import type { CheckedInput, MergeOptions, Outcome, Subscriber } from '../store.js';
import type { BulkWriter, PreparedRows } from './dialect.js';
import { rowValues, type WrittenRow } from './rows.js';

type Options = MergeOptions & { now: string };

/**
 * How incoming subscribers are merged into the stored ones, inside a transaction the caller holds.
 * Three ways, one result (mergeSubscriber decides every row):
 * - look the batch's addresses up, merge, write: the general way, and the one for a list that is
 *   mostly stored already (a re-import);
 * - insert every row as new and look up only those whose address was taken (SQLite: a failed insert
 *   costs less than a lookup for every row);
 * - copy a whole transaction's rows straight in while they are being read, and should any address
 *   be stored already, undo that and go the general way (PostgreSQL: the server inserts while we
 *   read, as with a plain COPY).
 * Which way a batch goes follows the last one: once most addresses turn out to be stored, lookups
 * come first, until a batch finds few stored again.
 */
export class Upserts {
  /** Whether the last batch found most of its addresses stored: then lookups come first. */
  private expectStored = false;

  constructor(
    private readonly dialect: BulkWriter,
    /** For each incoming subscriber, whether its address was erased (asked only when some address has been). */
    private readonly erasedAmong: (batch: CheckedInput[]) => Promise<boolean[]>,
  ) {}

  async batch(batch: CheckedInput[], options: Options): Promise<Outcome[]> {
    const keys = batch.map((input) => emailKey(input.email));
    // Hashing every address costs as much as the rest of the import; while nobody has been
    // erased it is skipped. Asked inside the transaction, which holds off a `remove` until it
    // commits (SQLite's write lock; a SHARE lock on erased_addresses in PostgreSQL).
    const erased = (await this.dialect.anyErased()) ? await this.erasedAmong(batch) : undefined;
    const outcomes = new Array<Outcome>(batch.length);
    const pending: number[] = [];
    for (let index = 0; index < batch.length; index++) {
      if (erased?.[index]) outcomes[index] = 'erased';
      else pending.push(index);
    }
    if (pending.length === 0) return outcomes;
    if (this.dialect.insertNew && !this.expectStored) {
      const rows = pending.map((index) => rowValues(mergeSubscriber(undefined, batch[index]!, options).record, keys[index]!));
      const inserted = await this.dialect.insertNew(rows, options.now);
      const taken = pending.filter((index, at) => {
        if (inserted[at]) outcomes[index] = 'imported';
        return !inserted[at];
      });
      this.expectStored = taken.length * 2 > pending.length;
      if (taken.length > 0) await this.merge(batch, keys, taken, outcomes, options);
      return outcomes;
    }
    const stored = await this.merge(batch, keys, pending, outcomes, options);
    this.expectStored = stored * 2 > pending.length;
    return outcomes;
  }

  /**
   * A transaction's batches, given as they are read. With a dialect that can copy new rows, and
   * nobody erased, each batch is copied straight in while the next one is read (the server writes
   * while we read, as with a plain COPY); a batch whose copy fails goes through batch() instead.
   * Only the batches in flight (the dialect's copiesInFlight) and the one being read are held:
   * rows kept longer than that outlive V8's young generation, and copying them there costs more
   * than the copy saves.
   */
  async slices(slices: AsyncIterable<CheckedInput[]> | Iterable<CheckedInput[]>, options: Options): Promise<Outcome[][]> {
    const all: Outcome[][] = [];
    if (!this.dialect.copyNew || !this.dialect.prepareNew || (await this.dialect.anyErased())) {
      for await (const slice of slices) all.push(await this.batch(slice, options));
      return all;
    }
    const iterator = (Symbol.asyncIterator in slices ? slices[Symbol.asyncIterator]() : slices[Symbol.iterator]()) as AsyncIterator<CheckedInput[]>;
    /** The next batch, read and (unless lookups come first now) made into rows to copy. */
    const prepare = async (): Promise<Prepared | undefined> => {
      const next = await iterator.next();
      if (next.done) return undefined;
      const slice = next.value;
      if (this.expectStored) return { slice };
      const outcomes = new Array<Outcome>(slice.length);
      const rows: WrittenRow[] = [];
      // An address twice in the batch would fail the copy: the second is merged after it, onto the
      // row the first wrote. (One in an earlier batch fails it, and this batch goes the general way:
      // rare enough in a list not to keep every address of the transaction in memory for it.)
      const seen = new Set<string>();
      const repeats: number[] = [];
      for (let index = 0; index < slice.length; index++) {
        const key = emailKey(slice[index]!.email);
        if (seen.has(key)) {
          repeats.push(index);
          continue;
        }
        seen.add(key);
        rows.push(rowValues(mergeSubscriber(undefined, slice[index]!, options).record, key));
        outcomes[index] = 'imported';
      }
      return { slice, copy: { prepared: this.dialect.prepareNew!(rows, options.now), outcomes, repeats } };
    };
    type Copy = NonNullable<Prepared['copy']>;
    /** Copies sent and not yet settled, oldest first (at most the dialect's copiesInFlight). */
    const inFlight: Array<{ slice: CheckedInput[]; copy: Copy; copied: Promise<boolean> }> = [];
    /** The oldest copy's outcomes; should it have failed, its batch goes the general way. */
    const settleOldest = async () => {
      const { slice, copy, copied } = inFlight.shift()!;
      if (!(await copied)) {
        // Some address was stored already (a re-import, another process): this batch goes the
        // general way, which also decides whether the next one is worth copying.
        this.expectStored = true;
        all.push(await this.batch(slice, options));
        return;
      }
      if (copy.repeats.length > 0) {
        const again = await this.batch(copy.repeats.map((index) => slice[index]!), options);
        copy.repeats.forEach((index, at) => {
          copy.outcomes[index] = again[at]!;
        });
      }
      all.push(copy.outcomes);
    };
    const depth = Math.max(1, this.dialect.copiesInFlight ?? 1);
    let upcoming = prepare();
    for (;;) {
      const current = await upcoming;
      if (!current) break;
      while (inFlight.length >= depth) await settleOldest();
      const { slice, copy } = current;
      if (!copy || this.expectStored) {
        // Outcomes stay in file order: the copies before this batch are settled first.
        while (inFlight.length > 0) await settleOldest();
        all.push(await this.batch(slice, options));
        upcoming = prepare();
        continue;
      }
      const copied = this.dialect.copyNew(copy.prepared);
      // Awaited in its turn; a failure meanwhile is not an unhandled one.
      copied.catch(() => {});
      inFlight.push({ slice, copy, copied });
      // The next batch is read and prepared while the database writes this one (a failure to read
      // is thrown when it is awaited, in its turn).
      upcoming = prepare();
      upcoming.catch(() => {});
    }
    while (inFlight.length > 0) await settleOldest();
    return all;
  }

  /** The general way for the rows at `indices`: look up, merge in file order, write. Returns how many addresses were stored. */
  private async merge(batch: CheckedInput[], keys: string[], indices: number[], outcomes: Outcome[], options: Options): Promise<number> {
    const stored = await this.dialect.existing([...new Set(indices.map((index) => keys[index]!))]);
    // The same address twice in one batch merges into the row written by its first occurrence.
    const inserts = new Map<string, Subscriber>();
    const updates = new Map<string, Subscriber>();
    for (const index of indices) {
      const key = keys[index]!;
      const before = inserts.get(key) ?? updates.get(key) ?? stored.get(key);
      const { record, outcome } = mergeSubscriber(before, batch[index]!, options);
      outcomes[index] = outcome;
      if (outcome === 'unchanged') continue;
      if (inserts.has(key) || !stored.has(key)) inserts.set(key, record);
      else updates.set(key, record);
    }
    await this.dialect.write(toRows(inserts), toRows(updates), options.now);
    return stored.size;
  }
}

/** A batch as read, and unless lookups come first, made ready to copy with the outcomes it will have if the copy goes in. */
interface Prepared {
  slice: CheckedInput[];
  copy?: { prepared: PreparedRows; outcomes: Outcome[]; repeats: number[] };
}

function toRows(records: Map<string, Subscriber>): WrittenRow[] {
  const rows: WrittenRow[] = [];
  for (const [key, record] of records) rows.push(rowValues(record, key));
  return rows;
}
