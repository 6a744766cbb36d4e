import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { UserError } from '../errors.js';
import type { Connection } from './connection.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from './migrations.js';
import type { Database } from './schema.js';
import { openHandle } from './sqlite-handle.js';
import { cachingStatements } from './statement-cache.js';

/** Opens a SQLite file (making its folder), with the migrations it lacks run. */
export function openSqliteDatabase(file: string, shown: string): BetterSqlite3.Database {
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
  return handle;
}

/**
 * SQLite through better-sqlite3: kysely over the handle, and the transactions. The subscribers'
 * batches are written on the same handle, outside kysely (src/audience/sql/sqlite.ts).
 */
export class SqliteConnection implements Connection {
  readonly kind = 'sqlite' as const;
  private readonly root: Kysely<Database>;
  /** The connection held by the transaction the running code is inside, if any. */
  private readonly scope = new AsyncLocalStorage<Kysely<Database>>();

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.root = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
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

  async close(): Promise<void> {
    await this.root.destroy();
  }
}
