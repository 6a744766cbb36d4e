import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openSqliteDatabase, SqliteConnection } from '../../db/sqlite.js';
import type { Subscriber } from '../store.js';
import type { Dialect } from './dialect.js';
import type { WrittenRow } from './rows.js';
import { SqliteWrites } from './sqlite-writes.js';

/**
 * SQLite through better-sqlite3. Batches are written with cached prepared statements on the raw
 * handle, not through kysely: better-sqlite3 is synchronous, so a 10,000-row batch costs no promise
 * per row, and the write lock taken by BEGIN IMMEDIATE makes the existing-row lookup exact.
 */
export async function openSqlite(file: string, shown: string): Promise<Dialect> {
  return new SqliteStoreDialect(openSqliteDatabase(file, shown));
}

class SqliteStoreDialect extends SqliteConnection implements Dialect {
  private readonly writes: SqliteWrites;

  constructor(handle: BetterSqlite3.Database) {
    super(handle);
    this.writes = new SqliteWrites(handle);
  }

  async existing(keys: string[]): Promise<Map<string, Subscriber>> {
    return this.writes.existing(keys);
  }

  async anyErased(): Promise<boolean> {
    return this.writes.anyErased();
  }

  async erased(hashes: string[]): Promise<Set<string>> {
    return this.writes.erased(hashes);
  }

  async write(inserts: WrittenRow[], updates: WrittenRow[], now: string): Promise<void> {
    this.writes.write(inserts, updates, now);
  }

  async insertNew(rows: WrittenRow[], now: string): Promise<boolean[]> {
    return this.writes.insertNew(rows, now);
  }

  hasTag(tag: string) {
    return sql<boolean>`exists (select 1 from json_each(subscribers.tags) where json_each.value = ${tag})`;
  }
}
