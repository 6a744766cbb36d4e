import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { UserError } from '../../errors.js';
import type { Subscriber } from '../store.js';
import type { Dialect } from './dialect.js';
import { appliedStatement, ledgerStatement, pendingMigrations, recordStatement } from './migrations.js';
import { subscriberFromRow, writtenColumns, type WrittenRow } from './rows.js';
import type { Database, SubscribersTable } from './schema.js';

/** The first key of the advisory lock that serialises migrations; the second is the schema's hash. */
const MIGRATION_LOCK = 0x0d16e57;

/**
 * PostgreSQL through pg. Migrations run under an advisory lock per schema, so processes starting
 * together take turns. Batches are written with one statement each, the rows passed as arrays and
 * spread by unnest(): one round trip per thousand subscribers.
 */
export async function openPostgres(url: string, shown: string): Promise<Dialect> {
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
  return new PostgresStoreDialect(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
}

const arrayTypes = ['text', 'text', 'text', 'text', 'text', 'text', 'boolean', 'text', 'text', 'text', 'text'];

class PostgresStoreDialect implements Dialect {
  readonly kind = 'postgres' as const;
  private current: Kysely<Database> | Transaction<Database>;

  constructor(private readonly root: Kysely<Database>) {
    this.current = root;
  }

  get db(): Kysely<Database> {
    return this.current;
  }

  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.current !== this.root) return work();
    return this.root.transaction().execute(async (transaction) => {
      this.current = transaction;
      try {
        return await work();
      } finally {
        this.current = this.root;
      }
    });
  }

  async existing(keys: string[]): Promise<Map<string, Subscriber>> {
    const found = new Map<string, Subscriber>();
    if (keys.length === 0) return found;
    const { rows } = await sql<SubscribersTable>`SELECT * FROM subscribers WHERE email_key = ANY(${keys}::text[]) FOR UPDATE`.execute(this.db);
    for (const row of rows) found.set(row.email_key, subscriberFromRow(row));
    return found;
  }

  async erased(hashes: string[]): Promise<Set<string>> {
    if (hashes.length === 0) return new Set();
    const { rows } = await sql<{ hash: string }>`SELECT hash FROM erased_addresses WHERE hash = ANY(${hashes}::text[])`.execute(this.db);
    return new Set(rows.map((row) => row.hash));
  }

  async insert(rows: WrittenRow[], now: string): Promise<void> {
    if (rows.length === 0) return;
    const columns = sql.raw([...writtenColumns, 'created_at', 'updated_at'].join(', '));
    // Another process may have added one of these addresses since our lookup: its row stands.
    await sql`INSERT INTO subscribers (${columns})
      SELECT u.*, ${now}::text, ${now}::text FROM unnest(${unnestArguments(rows)}) AS u
      ON CONFLICT (email_key) DO NOTHING`.execute(this.db);
  }

  async update(rows: WrittenRow[], now: string): Promise<void> {
    if (rows.length === 0) return;
    const assignments = sql.raw(writtenColumns.filter((column) => column !== 'email_key').map((column) => `${column} = u.${column}`).join(', '));
    const names = sql.raw(writtenColumns.join(', '));
    await sql`UPDATE subscribers AS s SET ${assignments}, updated_at = ${now}
      FROM unnest(${unnestArguments(rows)}) AS u(${names})
      WHERE s.email_key = u.email_key`.execute(this.db);
  }

  hasTag(tag: string) {
    return sql<boolean>`jsonb_exists(subscribers.tags::jsonb, ${tag})`;
  }

  async close(): Promise<void> {
    await this.root.destroy();
  }
}

/** Column-wise arrays, one per written column, each cast so unnest() knows its type. */
function unnestArguments(rows: WrittenRow[]) {
  const columns = arrayTypes.map((type, index) => sql`${rows.map((row) => row[index])}::${sql.raw(type)}[]`);
  return sql.join(columns);
}
