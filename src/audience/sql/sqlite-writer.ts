import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Subscriber } from '../store.js';
import type { BulkWriter, PreparedRows } from './dialect.js';
import { packRows, type PackedRows } from './row-transfer.js';
import type { WrittenRow } from './rows.js';
import { WorkerRequests } from '../../worker-requests.js';
import type { Request } from './sqlite-writer-worker.js';

/**
 * An import's writes to SQLite, made by a thread of their own. SQLite's work on a large import
 * (inserting, updating its index, committing) is about as much as reading the file (parsing,
 * mapping, checking each row); on one thread the two take turns, on two they overlap: the writer
 * inserts one slice while this thread reads the next (Upserts.slices, as with PostgreSQL's COPY).
 * Everything the import asks of the database goes through here, in order, on the writer's own
 * connection, transactions included, so the import sees one connection as before.
 */
export class SqliteWriter implements BulkWriter {
  private readonly worker: Worker;
  private readonly requests: WorkerRequests;
  private depth = 0;

  constructor(file: string) {
    // Its heap holds a slice or two of rows at a time; small generations keep its memory small.
    this.worker = new Worker(workerFile(), { workerData: { file }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.requests = new WorkerRequests(this.worker, { name: 'the SQLite writer thread' });
  }

  private call<T>(op: Request['op'], ...args: unknown[]): Promise<T> {
    return this.requests.send({ op, args });
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return work();
    await this.call('begin');
    this.depth++;
    try {
      const result = await work();
      await this.call('commit');
      return result;
    } catch (error) {
      await this.call('rollback').catch(() => {});
      throw error;
    } finally {
      this.depth--;
    }
  }

  existing(keys: string[]): Promise<Map<string, Subscriber>> {
    return this.call('existing', keys);
  }

  anyErased(): Promise<boolean> {
    return this.call('anyErased');
  }

  erased(hashes: string[]): Promise<Set<string>> {
    return this.call('erased', hashes);
  }

  write(inserts: WrittenRow[], updates: WrittenRow[], now: string): Promise<void> {
    return this.call('write', inserts, updates, now);
  }

  insertNew(rows: WrittenRow[], now: string): Promise<boolean[]> {
    return this.call('insertNew', packRows(rows), now);
  }

  prepareNew(rows: WrittenRow[], now: string): PreparedRows {
    return { count: rows.length, packed: packRows(rows), now } as PreparedRows;
  }

  copyNew(rows: PreparedRows): Promise<boolean> {
    const { packed, now } = rows as PreparedRows & { packed: PackedRows; now: string };
    return this.call('copyNew', packed, now);
  }

  async close(): Promise<void> {
    if (!this.requests.failure) await this.call('close').catch(() => {});
    await this.worker.terminate();
  }
}

/**
 * The writer thread's script, which the bundle holds beside the module that loads it. Run from the
 * sources (the test runner), that is the bundle too: a worker runs JavaScript, and `npm test`
 * builds before it tests.
 */
function workerFile(): string {
  const beside = new URL('./sqlite-writer.js', import.meta.url);
  if (import.meta.url.includes('/dist/bundle/')) return fileURLToPath(beside);
  const built = fileURLToPath(new URL('../../../dist/bundle/sqlite-writer.js', import.meta.url));
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
  return built;
}
