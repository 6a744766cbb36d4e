import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * The database the subscriber list and the send journal share, as both of them use it: queries
 * through kysely, and transactions. What only an import asks of it (the fastest way to write a
 * batch of subscribers) is the audience's Dialect (src/audience/sql/dialect.ts), which extends this.
 */
export interface Connection {
  readonly kind: 'sqlite' | 'postgres';
  /** The connection to query now: inside a transaction, that transaction's. */
  readonly db: Kysely<Database>;
  /**
   * Runs work in one transaction that takes the write lock at once; inside another, joins it.
   * "Inside" means in the same asynchronous context: code running meanwhile elsewhere (another send
   * worker) is not in this transaction, and waits for it (SQLite) or has its own (PostgreSQL).
   */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
