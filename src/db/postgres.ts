import { AsyncLocalStorage } from 'node:async_hooks';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { UserError } from '../errors.js';
import type { Connection } from './connection.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from './migrations.js';
import type { Database } from './schema.js';

/** The first key of the advisory lock that serialises migrations; the second is the schema's hash. */
const MIGRATION_LOCK = 0x0d16e57;

/**
 * Connects to PostgreSQL through pg, with the migrations the database lacks run. They run under an
 * advisory lock per schema, so processes starting together take turns.
 */
export async function openPostgresPool(url: string, shown: string): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end();
    throw new UserError(`cannot connect to the PostgreSQL database ${shown} (${(error as Error).message})`, { cause: error, code: 'database-unavailable' });
  }
  try {
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK}, hashtext(coalesce(current_schema(), '')))`);
    try {
      await client.query('BEGIN');
      await client.query(ledgerStatement);
      const applied = (await client.query<{ version: number }>(appliedStatement)).rows.map((row) => row.version);
      for (const migration of pendingMigrations(applied)) {
        for (const statement of migration.postgres) await client.query(statement);
        await client.query(recordStatement((n) => `$${n}`), [migration.version, migration.name, new Date().toISOString()]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK}, hashtext(coalesce(current_schema(), '')))`).catch(() => {});
    }
  } catch (error) {
    client.release();
    await pool.end();
    throw error;
  }
  client.release();
  return pool;
}

/** A transaction under way: the pool client it holds, and a kysely bound to that one client. */
export interface OpenTransaction {
  readonly client: pg.PoolClient;
  readonly db: Kysely<Database>;
}

/**
 * PostgreSQL as a Connection: kysely over the pool, and transactions each on a client of its own.
 * `Extra` is what a subclass keeps with each open transaction (an import's COPY streams, in
 * src/audience/sql/postgres.ts); it starts out empty.
 */
export class PostgresConnection<Extra extends object = object> implements Connection {
  readonly kind = 'postgres' as const;
  private readonly root: Kysely<Database>;
  /**
   * The transaction the running code is inside, if any. Kept per asynchronous context, not per
   * process: a send's workers run side by side, and each one's claim or group of outcomes is a
   * transaction on a connection of its own, committed when its own work ends, never folded into
   * another worker's.
   */
  private readonly scope = new AsyncLocalStorage<OpenTransaction & Partial<Extra>>();

  constructor(private readonly pool: pg.Pool) {
    this.root = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }

  protected get open(): (OpenTransaction & Partial<Extra>) | undefined {
    return this.scope.getStore();
  }

  get db(): Kysely<Database> {
    return this.open?.db ?? this.root;
  }

  /**
   * Transactions are run on a client of our own rather than through kysely's, since an import's COPY
   * needs the pg client itself; a kysely bound to that one client serves every query inside.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.open) return work();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const query = async (...args: unknown[]) => {
      await this.connectionIdle();
      return (client.query as (...args: unknown[]) => unknown)(...args);
    };
    const single = { connect: async () => ({ query, release() {} }), end: async () => {} };
    // A subclass keeps its Extra with the transaction; none of it is set yet.
    const extra: Partial<Extra> = {};
    const open = { ...extra, client, db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: single as never }) }) };
    return this.scope.run(open, async () => {
      try {
        await client.query('BEGIN');
        const result = await work();
        await this.connectionIdle();
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await this.connectionIdle().catch(() => {});
        await client.query('ROLLBACK').catch((failure: Error) => {
          broken = failure;
        });
        throw error;
      } finally {
        // A client whose rollback failed is in an unknown state: the pool drops it instead of reusing it.
        client.release(broken);
      }
    });
  }

  /**
   * Resolves once the open transaction's connection can take another statement: awaited before
   * each of kysely's queries, the commit and the rollback. At once here; a subclass that streams
   * on the client itself (an import's COPY) waits its streams out.
   */
  protected async connectionIdle(): Promise<void> {}

  async close(): Promise<void> {
    await this.root.destroy();
    // kysely ends the pool only if it ever used it itself: an import runs wholly in our own transactions.
    if (!this.pool.ending && !this.pool.ended) await this.pool.end();
  }
}
