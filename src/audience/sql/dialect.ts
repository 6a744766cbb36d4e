import type { Expression, SqlBool } from 'kysely';
import type { Connection } from '../../db/connection.js';
import type { Subscriber } from '../store.js';
import type { WrittenRow } from './rows.js';

/** Rows in the form a dialect copies them (see prepareNew). */
export interface PreparedRows {
  readonly count: number;
}

/**
 * What differs between SQLite and PostgreSQL for the subscribers, and nothing else: locking, the
 * fastest way to write a batch, and how to ask whether a JSON array holds a tag. Everything else is
 * kysely, shared; the connection and its transactions are src/db's, which the send journal uses too.
 */
export interface Dialect extends Connection {
  /** The stored subscribers for these keys, locked against concurrent writers until the transaction ends. */
  existing(keys: string[]): Promise<Map<string, Subscriber>>;
  /**
   * Whether any address has been erased: while none has, an import need not hash its addresses.
   * Inside a transaction, a `remove` cannot commit between this answer and the transaction's end.
   */
  anyErased(): Promise<boolean>;
  erased(hashes: string[]): Promise<Set<string>>;
  /**
   * Writes a merged batch: new subscribers (an address another process added meanwhile keeps its
   * row) and rewrites of stored ones, matched by email_key (column 2). The rows are the caller's to
   * give away: a dialect may reuse their arrays.
   */
  write(inserts: WrittenRow[], updates: WrittenRow[], now: string): Promise<void>;
  /**
   * Inserts rows for addresses expected to be new, skipping any whose email_key is stored already,
   * and says which went in: an import's new subscribers cost no lookup (SQLite, where each insert
   * finds a stored key itself at the cost of a failed insert).
   */
  insertNew?(rows: WrittenRow[], now: string): Promise<boolean[]>;
  /**
   * Rows for addresses expected to be new, made ready for copyNew (PostgreSQL: COPY's text), so
   * that this work can be done while the previous copy runs.
   */
  prepareNew?(rows: WrittenRow[], now: string): PreparedRows;
  /**
   * Copies prepared rows straight into subscribers, all or nothing, inside the open transaction.
   * Returns at once, so the caller can read on while the rows are written; the promise resolves
   * false, with nothing written, if any of them is stored already (or another writer holds one).
   */
  copyNew?(rows: PreparedRows): Promise<boolean>;
  /**
   * How many copies the caller may have in flight at once (default 1). A copy that fails takes
   * those after it with it: each of them then resolves false too.
   */
  readonly copiesInFlight?: number;
  hasTag(tag: string): Expression<SqlBool>;
}

/**
 * What an import asks of the database (src/audience/sql/upsert.ts): a dialect itself, or, for a
 * SQLite import, a writer on a thread of its own (sqlite-writer.ts).
 */
export type BulkWriter = Pick<Dialect, 'transaction' | 'existing' | 'anyErased' | 'erased' | 'write' | 'insertNew' | 'prepareNew' | 'copyNew' | 'copiesInFlight'> & {
  close?(): Promise<void>;
};
