import { existsSync } from 'node:fs';
import { UserError } from '../errors.js';
import { parseLocation, type Location } from './location.js';
import type { SubscriberSource, SubscriberStore } from './store.js';

/**
 * Opens the database a URL names, running any migrations it lacks. The drivers are imported here,
 * on demand, so that commands which never touch the list never load them.
 */
export interface StoreOptions extends SourceOptions {
  /**
   * For an import of many rows: on SQLite, its writes are made by a thread of their own, while this
   * one reads the file (src/audience/sql/sqlite-writer.ts). Costs a thread's start, so only worth
   * it for a bulk import.
   */
  bulk?: boolean;
}

export interface SourceOptions {
  /**
   * Create a SQLite file (and its folder) that does not exist yet. Only the commands that make a
   * list ask for it (import, add, a send to a CSV list, whose database holds just the journal):
   * anything else opening a mistyped path would otherwise read an empty list made on the spot, and
   * say "0 readers" instead of naming the mistake.
   */
  create?: boolean;
}

export async function openStore(url: string, options: StoreOptions = {}): Promise<SubscriberStore> {
  const location = parseLocation(url);
  if (location.kind === 'csv') {
    throw new UserError(`${location.shown} is a CSV list, which can be read but not changed: import it into a database first (digest subscribers import)`, {
      code: 'read-only-list',
    });
  }
  return openDatabase(location, options);
}

/** Opens anything that can be read as a list: a database, or a CSV file streamed as the list itself. */
export async function openSource(url: string, options: SourceOptions = {}): Promise<SubscriberSource> {
  const location = parseLocation(url);
  if (location.kind === 'csv') {
    const { CsvList } = await import('./list.js');
    return new CsvList(location.file);
  }
  return openDatabase(location, options);
}

async function openDatabase(location: Exclude<Location, { kind: 'csv' }>, options: StoreOptions = {}): Promise<SubscriberStore> {
  const { SqlStore } = await import('./sql/store.js');
  if (location.kind === 'sqlite') {
    if (!options.create) refuseMissing(location);
    const { openSqlite } = await import('./sql/sqlite.js');
    const dialect = await openSqlite(location.file, location.shown);
    if (!options.bulk || location.file === ':memory:') return new SqlStore(dialect);
    const { SqliteWriter } = await import('./sql/sqlite-writer.js');
    return new SqlStore(dialect, new SqliteWriter(location.file));
  }
  const { openPostgres } = await import('./sql/postgres.js');
  return new SqlStore(await openPostgres(location.url, location.shown));
}

function refuseMissing(location: Extract<Location, { kind: 'sqlite' }>): void {
  if (location.file === ':memory:' || existsSync(location.file)) return;
  throw new UserError(`the SQLite database ${location.shown} does not exist (digest subscribers import or add creates one)`, { code: 'database-missing' });
}
