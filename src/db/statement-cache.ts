import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct statements kept prepared; far more than digest issues, so in practice none is evicted. */
const LIMIT = 200;

/**
 * The database handle as kysely sees it, with its statements prepared once: kysely's SQLite driver
 * prepares every query it runs, and preparing costs more than running the short statements a send
 * makes per message (the journal's `sending` mark and outcome). A statement still iterating (busy)
 * is not handed out twice; a fresh one is prepared for the second caller.
 */
export function cachingStatements(handle: BetterSqlite3.Database): SqliteDatabase {
  const prepared = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      const cached = prepared.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = handle.prepare(sql);
      if (!cached) {
        if (prepared.size >= LIMIT) prepared.delete(prepared.keys().next().value!);
        prepared.set(sql, statement);
      }
      return statement;
    },
    close() {
      handle.close();
    },
  } as unknown as SqliteDatabase;
}
