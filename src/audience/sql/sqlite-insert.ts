import type BetterSqlite3 from 'better-sqlite3';
import { writtenColumns, type WrittenRow } from './rows.js';

const columns = [...writtenColumns, 'created_at', 'updated_at'];
/** Where the values most rows of one import share sit in a WrittenRow: status, attributes, international, consent and withdrawal. */
const shared = [3, 5, 6, 7, 8, 9, 10] as const;
/** Bound per row: email, email_key, name, tags. */
const own = [0, 1, 2, 4] as const;
/** Statements kept for combinations of shared values: an import has one or a few. */
const MAX_STATEMENTS = 8;
/** Rows of combinations beyond those, after which a store stops looking (a file where every row differs). */
const MAX_MISSES = 10_000;

/**
 * Inserts of new subscribers that skip an address already stored, for SQLite. Binding a value costs
 * better-sqlite3 (V8's string conversions) more than SQLite's own work with it, and the rows of an
 * import mostly differ only in address, name and tags; so each combination of the other values, up
 * to a few, gets a statement with them written in as literals, and four values are bound per row
 * instead of thirteen (a tenth of a large import). Other rows bind every value.
 */
export class NewRowInserts {
  private readonly bindAll: BetterSqlite3.Statement;
  private readonly byShared = new Map<string, BetterSqlite3.Statement>();
  private last?: { row: WrittenRow; now: string; statement: BetterSqlite3.Statement };
  private misses = 0;

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.bindAll = handle.prepare(insertStatement(columns.map(() => '?')));
  }

  /** Inserts the row unless its email_key is stored, and says whether it went in. The row is the caller's to give away. */
  insert(row: WrittenRow, now: string): boolean {
    const statement = this.sharedStatement(row, now);
    if (statement) return statement.run(row[0], row[1], row[2], row[4]).changes > 0;
    const values = row as unknown[];
    values[6] = row[6] ? 1 : 0;
    values.push(now, now);
    return this.bindAll.run(values).changes > 0;
  }

  private sharedStatement(row: WrittenRow, now: string): BetterSqlite3.Statement | undefined {
    const last = this.last;
    if (last && last.now === now && sameShared(last.row, row)) return last.statement;
    if (this.misses > MAX_MISSES) return undefined;
    const key = JSON.stringify([now, ...shared.map((index) => row[index])]);
    let statement = this.byShared.get(key);
    if (!statement) {
      // A NUL would end the statement's text early; such a value is bound instead.
      if (this.byShared.size >= MAX_STATEMENTS || shared.some((index) => String(row[index]).includes('\0')) || now.includes('\0')) {
        this.misses++;
        return undefined;
      }
      const values = columns.map((_, index) => {
        if ((own as readonly number[]).includes(index)) return '?';
        return literal(index < row.length ? row[index]! : now);
      });
      statement = this.handle.prepare(insertStatement(values));
      this.byShared.set(key, statement);
    }
    this.last = { row, now, statement };
    return statement;
  }
}

function sameShared(a: WrittenRow, b: WrittenRow): boolean {
  for (const index of shared) if (a[index] !== b[index]) return false;
  return true;
}

function insertStatement(values: string[]): string {
  return `INSERT INTO subscribers (${columns.join(', ')}) VALUES (${values.join(', ')}) ON CONFLICT (email_key) DO NOTHING`;
}

/** A value as an SQLite literal: text quoted with its quotes doubled, booleans as 0 and 1 (as bound). */
function literal(value: string | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? '1' : '0';
  return `'${value.replaceAll("'", "''")}'`;
}
