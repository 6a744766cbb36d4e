/**
 * The writer thread of sqlite-writer.ts: a connection of its own to the database file, doing in
 * order what the import's thread asks, one message each, and answering each with its result or its
 * error. Bundled as dist/bundle/sqlite-writer.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerReply as Reply } from '../../worker-requests.js';
import { HeapCeiling } from '../../heap.js';
import { unpackRows, type PackedRows } from './row-transfer.js';
import type { WrittenRow } from './rows.js';
import { openHandle } from '../../db/sqlite-handle.js';
import { SqliteWrites } from './sqlite-writes.js';

export interface Request {
  id: number;
  op: keyof typeof operations;
  args: unknown[];
}

const handle = openHandle((workerData as { file: string }).file);
// What this thread holds at a time is a slice or two of rows (under 10 MB alive, code included);
// left to itself, V8 let the garbage of a large import pile up in its old generation past 25 MB,
// which took an import of two million rows past 150 MB.
const heap = new HeapCeiling(12, 4);
// better-sqlite3 gives a connection 16 MB of page cache; an import's inserts run as fast with 2 MB
// (a million rows, either way), and memory is what a second thread costs.
handle.pragma('cache_size = -2000');
const writes = new SqliteWrites(handle);

const operations = {
  begin: () => handle.exec('BEGIN IMMEDIATE'),
  commit: () => handle.exec('COMMIT'),
  rollback: () => {
    if (handle.inTransaction) handle.exec('ROLLBACK');
  },
  existing: (keys: string[]) => writes.existing(keys),
  anyErased: () => writes.anyErased(),
  erased: (hashes: string[]) => writes.erased(hashes),
  write: (inserts: WrittenRow[], updates: WrittenRow[], now: string) => writes.write(inserts, updates, now),
  insertNew: (rows: PackedRows, now: string) => writes.insertNew(unpackRows(rows), now),
  copyNew: (rows: PackedRows, now: string) => writes.copyNew(unpackRows(rows), now),
  close: () => handle.close(),
};

parentPort!.on('message', ({ id, op, args }: Request) => {
  let reply: Reply;
  try {
    reply = { id, result: (operations[op] as (...args: unknown[]) => unknown)(...args) };
  } catch (error) {
    reply = { id, error: { message: (error as Error).message, code: (error as { code?: string }).code } };
  }
  parentPort!.postMessage(reply);
  if (op === 'close') parentPort!.close();
  else heap.check();
});
