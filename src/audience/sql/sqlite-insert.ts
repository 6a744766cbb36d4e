import type BetterSqlite3 from 'better-sqlite3';
import { ownValues as own, sameSharedValues, sharedValues as shared, writtenColumns, type WrittenRow } from './rows.js';

const columns = [...writtenColumns, 'created_at', 'updated_at'];
/** Statements kept for combinations of shared values: an import has one or a few. */
const MAX_STATEMENTS = 8;
/** Rows of combinations beyond those, after which a store stops looking (a file where every row differs). */
const MAX_MISSES = 10_000;
/**
 * Rows one statement inserts in insertAll. Each run of a statement costs better-sqlite3 a crossing
 * into C++ and a reset; fifty rows a run made a million-row insert a fifth faster.
 */
const BLOCK = 50;

/** The statements for one combination of shared values: a row at a time, and a block at a time. */
interface SharedStatements {
  one: BetterSqlite3.Statement;
  block?: BetterSqlite3.Statement;
  /** One row's values, to make `block` when first needed. */
  tuple: string;
}

/**
 * Inserts of new subscribers that skip an address already stored, for SQLite. Binding a value costs
 * better-sqlite3 (V8's string conversions) more than SQLite's own work with it, and the rows of an
 * import mostly differ only in address, name and tags; so each combination of the other values, up
 * to a few, gets statements with them written in as literals, and four values are bound per row
 * instead of thirteen (a tenth of a large import). Other rows bind every value.
 */
export class NewRowInserts {
  private readonly bindAll: BetterSqlite3.Statement;
  private readonly byShared = new Map<string, SharedStatements>();
  private last?: { row: WrittenRow; now: string; statements: SharedStatements };
  private misses = 0;
  private readonly blockValues = new Array<unknown>(BLOCK * own.length);

  constructor(private readonly handle: BetterSqlite3.Database) {
    this.bindAll = handle.prepare(insertStatement(columns.map(() => '?')));
  }

  /** Inserts the row unless its email_key is stored, and says whether it went in. The row is the caller's to give away. */
  insert(row: WrittenRow, now: string): boolean {
    const statements = this.sharedStatements(row, now);
    if (statements) return statements.one.run(row[0], row[1], row[2], row[4]).changes > 0;
    const values = row as unknown[];
    values[6] = row[6] ? 1 : 0;
    values.push(now, now);
    return this.bindAll.run(values).changes > 0;
  }

  /**
   * Inserts the rows, in blocks where runs of them share their other values, and says whether all
   * went in. At the first address found stored it stops, with the rows before it (and some of its
   * block) inserted: the caller undoes them (SqliteWrites.copyNew).
   */
  insertAll(rows: WrittenRow[], now: string): boolean {
    let at = 0;
    while (at < rows.length) {
      const first = rows[at]!;
      let end = at + 1;
      while (end < rows.length && end - at < BLOCK && sameSharedValues(rows[end]!, first)) end++;
      const statements = end - at === BLOCK ? this.sharedStatements(first, now) : undefined;
      if (statements) {
        const values = this.blockValues;
        for (let index = 0; index < BLOCK; index++) {
          const row = rows[at + index]!;
          values[4 * index] = row[0];
          values[4 * index + 1] = row[1];
          values[4 * index + 2] = row[2];
          values[4 * index + 3] = row[4];
        }
        statements.block ??= this.handle.prepare(`${HEAD} VALUES ${Array<string>(BLOCK).fill(statements.tuple).join(', ')} ${CONFLICT}`);
        if (statements.block.run(values).changes !== BLOCK) return false;
        at = end;
        continue;
      }
      for (; at < end; at++) if (!this.insert(rows[at]!, now)) return false;
    }
    return true;
  }

  private sharedStatements(row: WrittenRow, now: string): SharedStatements | undefined {
    const last = this.last;
    if (last && last.now === now && sameSharedValues(last.row, row)) return last.statements;
    if (this.misses > MAX_MISSES) return undefined;
    const key = JSON.stringify([now, ...shared.map((index) => row[index])]);
    let statements = this.byShared.get(key);
    if (!statements) {
      // A NUL would end the statement's text early; such a value is bound instead.
      if (this.byShared.size >= MAX_STATEMENTS || shared.some((index) => String(row[index]).includes('\0')) || now.includes('\0')) {
        this.misses++;
        return undefined;
      }
      const values = columns.map((_, index) => {
        if ((own as readonly number[]).includes(index)) return '?';
        return literal(index < row.length ? row[index]! : now);
      });
      const tuple = `(${values.join(', ')})`;
      statements = { one: this.handle.prepare(`${HEAD} VALUES ${tuple} ${CONFLICT}`), tuple };
      this.byShared.set(key, statements);
    }
    this.last = { row, now, statements };
    return statements;
  }
}

const HEAD = `INSERT INTO subscribers (${columns.join(', ')})`;
const CONFLICT = 'ON CONFLICT (email_key) DO NOTHING';

function insertStatement(values: string[]): string {
  return `${HEAD} VALUES (${values.join(', ')}) ${CONFLICT}`;
}

/** A value as an SQLite literal: text quoted with its quotes doubled, booleans as 0 and 1 (as bound). */
function literal(value: string | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? '1' : '0';
  return `'${value.replaceAll("'", "''")}'`;
}
