import BetterSqlite3 from 'better-sqlite3';

/** How long a writer waits for another process's lock before giving up. */
const BUSY_TIMEOUT_MS = 15_000;

/** A connection as every digest connection is set up: the store's, and an import's writer thread's (src/audience/sql/sqlite-writer.ts). */
export function openHandle(file: string): BetterSqlite3.Database {
  const handle = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
  // WAL lets `digest send` read while an import writes; NORMAL sync is crash-safe under WAL.
  retryBusy(() => handle.pragma('journal_mode = WAL'));
  handle.pragma('synchronous = NORMAL');
  return handle;
}

function retryBusy<T>(work: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return work();
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || attempt > 50) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}
