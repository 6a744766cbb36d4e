import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { UserError } from '../../errors.js';
import type { Subscriber } from '../store.js';
import type { Dialect } from './dialect.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from './migrations.js';
import { subscriberFromRow, writtenColumns, type WrittenRow } from './rows.js';
import type { Database, SubscribersTable } from './schema.js';

/** How long a writer waits for another process's lock before giving up. */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * SQLite through better-sqlite3. Batches are written with cached prepared statements on the raw
 * handle, not through kysely: better-sqlite3 is synchronous, so a 1,000-row batch costs no promise
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
  private readonly byCount = new Map<string, BetterSqlite3.Statement>();
  private readonly insertStatement: BetterSqlite3.Statement;
  private readonly updateStatement: BetterSqlite3.Statement;

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database: handle }) });
    const columns = [...writtenColumns, 'created_at', 'updated_at'];
    this.insertStatement = handle.prepare(`INSERT INTO subscribers (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    const assignments = writtenColumns.filter((column) => column !== 'email_key').map((column) => `${column} = ?`);
    this.updateStatement = handle.prepare(`UPDATE subscribers SET ${assignments.join(', ')}, updated_at = ? WHERE email_key = ?`);
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
    const rows = this.selectIn('SELECT * FROM subscribers WHERE email_key IN', keys) as SubscribersTable[];
    for (const row of rows) found.set(row.email_key, subscriberFromRow(row));
    return found;
  }

  async erased(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const rows = this.selectIn('SELECT hash FROM erased_addresses WHERE hash IN', hashes) as Array<{ hash: string }>;
    return new Set(rows.map((row) => row.hash));
  }

  private selectIn(prefix: string, values: string[]): unknown[] {
    const name = `${prefix}/${values.length}`;
    let statement = this.byCount.get(name);
    if (!statement) {
      statement = this.handle.prepare(`${prefix} (${values.map(() => '?').join(', ')})`);
      this.byCount.set(name, statement);
    }
    return statement.all(...values);
  }

  async insert(rows: WrittenRow[], now: string): Promise<void> {
    for (const row of rows) this.insertStatement.run(...sqliteValues(row), now, now);
  }

  async update(rows: WrittenRow[], now: string): Promise<void> {
    for (const row of rows) {
      const values = sqliteValues(row);
      const key = values.splice(1, 1)[0];
      this.updateStatement.run(...values, now, key);
    }
  }

  hasTag(tag: string) {
    return sql<boolean>`exists (select 1 from json_each(subscribers.tags) where json_each.value = ${tag})`;
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/** SQLite has no boolean: better-sqlite3 refuses to bind one. */
function sqliteValues(row: WrittenRow): unknown[] {
  const values: unknown[] = [...row];
  values[6] = row[6] ? 1 : 0;
  return values;
}
