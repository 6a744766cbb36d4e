import type BetterSqlite3 from 'better-sqlite3';
import type { Subscriber } from '../store.js';
import { subscriberFromRow, writtenColumns, type WrittenRow } from './rows.js';
import { NewRowInserts } from './sqlite-insert.js';
import type { SubscribersTable } from '../../db/schema.js';

/**
 * The statements a batch of subscribers is looked up and written with, prepared once over one
 * SQLite handle, synchronous: the main thread's store uses them directly, and an import's writer
 * thread (sqlite-writer.ts) over a handle of its own.
 */
export class SqliteWrites {
  private readonly insertStatement: BetterSqlite3.Statement;
  private readonly newRows: NewRowInserts;
  private readonly updateStatement: BetterSqlite3.Statement;
  private readonly anyErasedStatement: BetterSqlite3.Statement;
  private readonly existingStatement: BetterSqlite3.Statement;
  private readonly erasedStatement: BetterSqlite3.Statement;

  constructor(private readonly handle: BetterSqlite3.Database) {
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

  existing(keys: string[]): Map<string, Subscriber> {
    const found = new Map<string, Subscriber>();
    if (keys.length === 0) return found;
    for (const row of this.existingStatement.all(JSON.stringify(keys)) as SubscribersTable[]) found.set(row.email_key, subscriberFromRow(row));
    return found;
  }

  anyErased(): boolean {
    return Boolean(this.anyErasedStatement.get());
  }

  erased(hashes: string[]): Set<string> {
    if (hashes.length === 0) return new Set();
    return new Set(this.erasedStatement.all(JSON.stringify(hashes)) as string[]);
  }

  write(inserts: WrittenRow[], updates: WrittenRow[], now: string): void {
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

  /** Inserts each row unless its address is stored, and says which went in. */
  insertNew(rows: WrittenRow[], now: string): boolean[] {
    return rows.map((row) => this.newRows.insert(row, now));
  }

  /** Inserts all the rows, or, should any address be stored already, none (see Dialect.copyNew). */
  copyNew(rows: WrittenRow[], now: string): boolean {
    this.handle.exec('SAVEPOINT digest_copy');
    let all: boolean;
    try {
      all = this.newRows.insertAll(rows, now);
    } catch (error) {
      this.handle.exec('ROLLBACK TO digest_copy');
      this.handle.exec('RELEASE digest_copy');
      throw error;
    }
    if (!all) this.handle.exec('ROLLBACK TO digest_copy');
    this.handle.exec('RELEASE digest_copy');
    return all;
  }
}
