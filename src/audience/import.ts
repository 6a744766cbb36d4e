import { UserError } from '../errors.js';
import { HeapCeiling } from '../heap.js';
import { checkAddress } from './address.js';
import { openCsv, type CsvRow } from './csv.js';
import { bindFormat, type FormatName } from './formats/index.js';
import { Rejections, type Rejection } from './rejections.js';
import type { CheckedInput, Outcome, SubscriberStore } from './store.js';
import { quote } from './quote.js';

export interface ImportOptions {
  format?: FormatName | 'auto';
  /** Tags added to every imported subscriber. */
  tags?: string[];
  /** Any rejected row rejects the whole file, and nothing changes. */
  strict?: boolean;
  /** Rows per transaction. */
  batchSize?: number;
  /** Called after each slice (a few thousand rows) with the number of rows read so far. */
  onProgress?: (rows: number) => void;
}

export type { Rejection } from './rejections.js';

export interface ImportResult {
  format: FormatName;
  imported: number;
  updated: number;
  unchanged: number;
  /** The first rejected rows in file order (REJECTIONS_HELD): all of them, in a file with no more. */
  readonly rejected: Rejection[];
  /** Every rejected row, however many: their count, and all() to list them (then dispose()). */
  rejections: Rejections;
  /** Whether the changes were kept: false when --strict refused the file. */
  applied: boolean;
}

/**
 * Rows per transaction when the store writes while we read (PostgreSQL's server, a SQLite writer
 * thread). The transaction stays open while the batch is read, and one slice is written while the
 * next is read; at each commit that overlap stops (the writer waits for the first slice of the next
 * transaction, we wait for its last), which at 10,000 rows cost a fifth of a large import, and at
 * 50,000 still 4% on PostgreSQL. Only the slices in flight are held in memory, whatever the size.
 * PostgreSQL locks only the rows written; SQLite's lock is the whole database, so its transactions
 * are kept to a few tenths of a second, which another writer waits out (its busy timeout).
 */
export const POSTGRES_BATCH = 200_000;
export const SQLITE_WRITER_BATCH = 50_000;
/**
 * Rows per transaction on a SQLite store that writes on this thread: a batch is read before its
 * transaction opens, so that other processes get the write lock between batches, and it is kept
 * small because it is held across reads. A commit costs no fsync there (WAL, synchronous=NORMAL),
 * so small batches are not slower.
 */
export const SQLITE_BATCH = 2_000;
/** Rows merged and written at a time: what a slice builds (records, rows, their JSON) dies young. */
const SLICE = 2_000;

/**
 * Imports a list file into the store, streaming: rows are read, mapped by the file's format,
 * checked, and written a batch per transaction (in slices, to keep memory flat). A crash between
 * batches leaves whole batches only, and since every write is a merge by address, running the same
 * import again finishes the job without duplicating anyone. With `strict`, all batches share one
 * transaction that is rolled back if any row was rejected.
 */
export async function importFile(store: SubscriberStore, file: string, options: ImportOptions = {}): Promise<ImportResult> {
  const csv = await openCsv(file);
  const bound = bindFormat(csv.columns, options.format ?? 'auto', file);
  const rejections = new Rejections();
  const result: ImportResult = {
    format: bound.format.name,
    imported: 0,
    updated: 0,
    unchanged: 0,
    get rejected() {
      return rejections.first();
    },
    rejections,
    applied: true,
  };
  // Never `resubscribe`: whoever left comes back only by confirming (src/signup/).
  const mergeOptions = { tags: options.tags, source: `import:${bound.format.name}`, now: new Date().toISOString() };
  const holdWhileReading = store.pipelined;
  const size = Math.max(1, options.batchSize ?? (!holdWhileReading ? SQLITE_BATCH : store.kind === 'postgres' ? POSTGRES_BATCH : SQLITE_WRITER_BATCH));
  const slice = Math.min(size, SLICE);
  let read = 0;
  // What a slice leaves behind survives into V8's old generation, and would pile up past the memory goal.
  const heap = new HeapCeiling();

  // The reader's chunks, walked row by row: an await only when a chunk runs out, not per row.
  const chunks = csv.batches[Symbol.asyncIterator]();
  let chunk: CsvRow[] = [];
  let at = 0;
  let ended = false;
  /** Makes chunk[at] the next row; false at the end of the file. */
  const more = async (): Promise<boolean> => {
    while (at >= chunk.length) {
      if (ended) return false;
      const next = await chunks.next();
      if (next.done) {
        ended = true;
        return false;
      }
      chunk = next.value;
      at = 0;
    }
    return true;
  };

  /**
   * Up to `limit` rows that pass the checks; the others are rejected on the way. Fewer at the end of
   * the file, and also after reading four times `limit` rows, so that a long run of rejected rows
   * still reports progress and lets the heap be checked.
   */
  const readSlice = async (limit: number) => {
    const inputs: CheckedInput[] = [];
    const lines: number[] = [];
    for (let seen = 0; inputs.length < limit && seen < limit * 4 && (at < chunk.length || (await more())); seen++) {
      const row = chunk[at++]!;
      read++;
      if ('error' in row) {
        rejections.add({ line: row.line, reason: row.error });
        continue;
      }
      const mapped = bound.read(row.values);
      if ('reject' in mapped) {
        rejections.add({ line: row.line, reason: mapped.reject });
        continue;
      }
      const check = checkAddress(mapped.email);
      if (!check.ok) {
        rejections.add({ line: row.line, reason: `${check.reason}: ${quote(mapped.email)}` });
        continue;
      }
      // The mapped row is ours alone: completed in place rather than copied.
      const input = mapped as CheckedInput;
      input.email = check.address;
      input.international = check.international;
      inputs.push(input);
      lines.push(row.line);
    }
    return { inputs, lines };
  };

  /**
   * One transaction of up to `size` rows, given to the store a slice at a time. With a store that
   * writes while we read, the slices are read while the transaction is open (and it writes one
   * while we read the next); otherwise the batch is read first (see SQLITE_BATCH). The counts are
   * taken only once it commits.
   */
  const transaction = async () => {
    const lines: number[][] = [];
    async function* slices(): AsyncGenerator<CheckedInput[]> {
      for (let taken = 0; taken < size; ) {
        const next = await readSlice(Math.min(slice, size - taken));
        heap.check();
        options.onProgress?.(read);
        if (next.inputs.length === 0) {
          if (ended && at >= chunk.length) return;
          continue;
        }
        lines.push(next.lines);
        taken += next.inputs.length;
        yield next.inputs;
      }
    }
    let outcomes: Outcome[][];
    if (holdWhileReading) outcomes = await store.upsertSlices(slices(), mergeOptions);
    else {
      const batch: CheckedInput[][] = [];
      for await (const inputs of slices()) batch.push(inputs);
      outcomes = batch.length > 0 ? await store.upsertSlices(batch, mergeOptions) : [];
    }
    outcomes.forEach((sliceOutcomes, at) => {
      sliceOutcomes.forEach((outcome, index) => {
        if (outcome === 'erased') rejections.addErased({ line: lines[at]![index]!, reason: 'was erased at the subscriber’s request (digest subscribers remove), so it is not imported again' });
        else result[outcome]++;
      });
    });
  };

  const run = async () => {
    do await transaction();
    while (!ended || at < chunk.length);
  };

  if (options.strict) {
    try {
      await store.atomically(async () => {
        await run();
        if (rejections.count > 0) throw new StrictRefusal();
      });
    } catch (error) {
      if (!(error instanceof StrictRefusal)) throw error;
      Object.assign(result, { imported: 0, updated: 0, unchanged: 0, applied: false });
    }
  } else {
    try {
      await run();
    } catch (error) {
      const written = result.imported + result.updated + result.unchanged;
      if (error instanceof UserError && written > 0) {
        throw new UserError(`${error.message}; the ${written} rows before it were imported (importing the fixed file again will not duplicate them)`, {
          file: error.file,
          line: error.line,
          code: error.code,
          cause: error,
        });
      }
      throw error;
    }
  }
  return result;
}

/** Unwinds the strict import's transaction; never seen outside this module. */
class StrictRefusal extends Error {}
