import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { UserError } from '../../errors.js';
import type { Subscriber } from '../store.js';
import type { Dialect } from './dialect.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from '../../db/migrations.js';
import { cachingStatements } from '../../db/statement-cache.js';
import type { WrittenRow } from './rows.js';
import type { Database } from '../../db/schema.js';
import { openHandle } from '../../db/sqlite-handle.js';
import { SqliteWrites } from './sqlite-writes.js';

/**
 * SQLite through better-sqlite3. Batches are written with cached prepared statements on the raw
 * handle, not through kysely: better-sqlite3 is synchronous, so a 10,000-row batch costs no promise
 * per row, and the write lock taken by BEGIN IMMEDIATE makes the existing-row lookup exact.
 */
export async function openSqlite(file: string, shown: string): Promise<Dialect> {
  let handle: BetterSqlite3.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    handle = openHandle(file);
  } catch (error) {
    throw new UserError(`cannot open the SQLite database ${shown} (${(error as Error).message})`, { cause: error, code: 'database-unavailable' });
  }
  try {
    // Synchronous from BEGIN to COMMIT: another store opening the same file in this process would
    // otherwise block the thread on the lock while this one waits for its turn on the event loop.
    handle.exec('BEGIN IMMEDIATE');
    handle.exec(ledgerStatement);
    const applied = (handle.prepare(appliedStatement).all() as Array<{ version: number }>).map((row) => row.version);
    for (const migration of pendingMigrations(applied)) {
      for (const statement of migration.sqlite) handle.exec(statement);
      handle.prepare(recordStatement(() => '?')).run(migration.version, migration.name, new Date().toISOString());
    }
    handle.exec('COMMIT');
  } catch (error) {
    if (handle.inTransaction) handle.exec('ROLLBACK');
    handle.close();
    if ((error as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new UserError(`${shown} is not a SQLite database`, { cause: error, code: 'database-unavailable' });
    }
    throw error;
  }
  return new SqliteStoreDialect(handle);
}

class SqliteStoreDialect implements Dialect {
  readonly kind = 'sqlite' as const;
  private readonly root: Kysely<Database>;
  /** The connection held by the transaction the running code is inside, if any. */
  private readonly scope = new AsyncLocalStorage<Kysely<Database>>();
  private readonly writes: SqliteWrites;

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.root = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
    this.writes = new SqliteWrites(handle);
  }

  get db(): Kysely<Database> {
    return this.scope.getStore() ?? this.root;
  }

  /**
   * One connection serves the whole process, so a transaction holds it (kysely's connection lock)
   * from BEGIN to COMMIT: a statement from other code running meanwhile, such as another send
   * worker's, waits for the commit instead of landing inside this transaction unseen. Code inside
   * the transaction (its asynchronous context) queries through the held connection.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.scope.getStore()) return work();
    return this.root.connection().execute((held) =>
      this.scope.run(held, async () => {
        this.handle.exec('BEGIN IMMEDIATE');
        try {
          const result = await work();
          this.handle.exec('COMMIT');
          return result;
        } catch (error) {
          if (this.handle.inTransaction) this.handle.exec('ROLLBACK');
          throw error;
        }
      }),
    );
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

  async close(): Promise<void> {
    await this.root.destroy();
  }
}
