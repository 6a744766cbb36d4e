import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { UserError } from '../../errors.js';
import type { Subscriber } from '../store.js';
import type { Dialect } from './dialect.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from './migrations.js';
import { cachingStatements } from './statement-cache.js';
import { subscriberFromRow, writtenColumns, type WrittenRow } from './rows.js';
import { NewRowInserts } from './sqlite-insert.js';
import type { Database, SubscribersTable } from './schema.js';

/** How long a writer waits for another process's lock before giving up. */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * SQLite through better-sqlite3. Batches are written with cached prepared statements on the raw
 * handle, not through kysely: better-sqlite3 is synchronous, so a 10,000-row batch costs no promise
 * per row, and the write lock taken by BEGIN IMMEDIATE makes the existing-row lookup exact.
 */
export async function openSqlite(file: string, shown: string): Promise<Dialect> {
  let handle: BetterSqlite3.Database;
  try {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    handle = new BetterSqlite3(file, { timeout: BUSY_TIMEOUT_MS });
    // WAL lets `digest send` read while an import writes; NORMAL sync is crash-safe under WAL.
    retryBusy(() => handle.pragma('journal_mode = WAL'));
    handle.pragma('synchronous = NORMAL');
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

class SqliteStoreDialect implements Dialect {
  readonly kind = 'sqlite' as const;
  readonly db: Kysely<Database>;
  private depth = 0;
  private readonly insertStatement: BetterSqlite3.Statement;
  private readonly newRows: NewRowInserts;
  private readonly updateStatement: BetterSqlite3.Statement;
  private readonly anyErasedStatement: BetterSqlite3.Statement;
  private readonly existingStatement: BetterSqlite3.Statement;
  private readonly erasedStatement: BetterSqlite3.Statement;

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(handle) }) });
    const columns = [...writtenColumns, 'created_at', 'updated_at'];
    this.insertStatement = handle.prepare(`INSERT INTO subscribers (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    this.newRows = new NewRowInserts(handle);
    const assignments = writtenColumns.filter((column) => column !== 'email_key').map((column) => `${column} = ?`);
    this.updateStatement = handle.prepare(`UPDATE subscribers SET ${assignments.join(', ')}, updated_at = ? WHERE email_key = ?`);
    this.anyErasedStatement = handle.prepare('SELECT EXISTS (SELECT 1 FROM erased_addresses)').pluck();
    // A batch's keys go in as one JSON array: one statement whatever the batch size, and no limit
    // on the number of bound variables.
    this.existingStatement = handle.prepare('SELECT * FROM subscribers WHERE email_key IN (SELECT value FROM json_each(?))');
    this.erasedStatement = handle.prepare('SELECT hash FROM erased_addresses WHERE hash IN (SELECT value FROM json_each(?))').pluck();
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.depth > 0) return work();
    this.handle.exec('BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = await work();
      this.handle.exec('COMMIT');
      return result;
    } catch (error) {
      if (this.handle.inTransaction) this.handle.exec('ROLLBACK');
      throw error;
    } finally {
      this.depth--;
    }
  }

  async existing(keys: string[]): Promise<Map<string, Subscriber>> {
    const found = new Map<string, Subscriber>();
    if (keys.length === 0) return found;
    for (const row of this.existingStatement.all(JSON.stringify(keys)) as SubscribersTable[]) found.set(row.email_key, subscriberFromRow(row));
    return found;
  }

  async anyErased(): Promise<boolean> {
    return Boolean(this.anyErasedStatement.get());
  }

  async erased(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    return new Set(this.erasedStatement.all(JSON.stringify(hashes)) as string[]);
  }

  async write(inserts: WrittenRow[], updates: WrittenRow[], now: string): Promise<void> {
    // One array per row, bound as it is: no spread and no copy (this is the import's inner loop).
    for (const row of inserts) {
      const values = row as unknown[];
      values[6] = row[6] ? 1 : 0;
      values.push(now, now);
      this.insertStatement.run(values);
    }
    for (const row of updates) {
      const [email, key, ...rest] = row;
      this.updateStatement.run(email, ...rest.map((value) => (typeof value === 'boolean' ? Number(value) : value)), now, key);
    }
  }

  async insertNew(rows: WrittenRow[], now: string): Promise<boolean[]> {
    return rows.map((row) => this.newRows.insert(row, now));
  }

  hasTag(tag: string) {
    return sql<boolean>`exists (select 1 from json_each(subscribers.tags) where json_each.value = ${tag})`;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
