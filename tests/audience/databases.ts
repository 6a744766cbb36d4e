/**
 * The databases every store test runs on: a fresh SQLite file per test, and a fresh schema per test
 * in the PostgreSQL at 127.0.0.1:5432 (so test files can run in parallel). When PostgreSQL cannot be
 * reached the PostgreSQL half is skipped with a message saying why, unless DIGEST_REQUIRE_PG=1,
 * which turns the skip into a failure (CI sets it, so a missing server cannot pass unnoticed).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, test } from 'vitest';
import { openStore, type StoreOptions } from '../../src/audience/open.js';
import type { SubscriberStore } from '../../src/audience/store.js';

export const PG_URL = process.env.DIGEST_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const required = process.env.DIGEST_REQUIRE_PG === '1';

async function probe(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${PG_URL} is unreachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

export const pgUnavailable = await probe();
if (pgUnavailable && !required) console.warn(`\n[digest tests] skipping the PostgreSQL half: ${pgUnavailable}. Set DIGEST_REQUIRE_PG=1 to make this a failure.\n`);

export interface Target {
  kind: 'sqlite' | 'postgres';
  /** A new, empty database, dropped after the file's tests. */
  fresh(): Promise<string>;
  /** How the suite's stores are opened: an import's SQLite store may write on a thread of its own. */
  options?: StoreOptions;
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'digest-audience-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const sqlite: Target = {
  kind: 'sqlite',
  async fresh() {
    return `sqlite:${join(await tempDir(), 'digest.db')}`;
  },
};

const postgres: Target = {
  kind: 'postgres',
  async fresh() {
    const schema = `digest_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    });
    return withSchema(PG_URL, schema);
  },
};

/** The pg connection option that makes every connection of the URL use this schema. */
export function withSchema(url: string, schema: string): string {
  const separator = url.includes('?') ? '&' : '?';
  return `${url}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/**
 * Runs an import suite on SQLite, on SQLite with the writer thread an import uses from the command
 * line (src/audience/sql/sqlite-writer.ts), and on PostgreSQL.
 */
export function onEachImportStore(suite: (target: Target) => void): void {
  describe('on SQLite, writing on a thread of its own', () => suite({ ...sqlite, options: { bulk: true } }));
  onEachDatabase(suite);
}

/** Runs the same suite on SQLite and on PostgreSQL. */
export function onEachDatabase(suite: (target: Target) => void): void {
  describe('on SQLite', () => suite(sqlite));
  if (pgUnavailable && required) {
    test('PostgreSQL is reachable (DIGEST_REQUIRE_PG=1)', () => {
      throw new Error(pgUnavailable);
    });
    return;
  }
  describe.skipIf(Boolean(pgUnavailable))('on PostgreSQL', () => suite(postgres));
}

export const fixture = (...parts: string[]) => join(import.meta.dirname, '..', 'fixtures', 'audience', ...parts);

/** Opens stores on fresh databases of the target (creating the SQLite file), each closed after its test. */
export function storeOpener(target: Target): () => Promise<SubscriberStore> {
  const open: SubscriberStore[] = [];
  afterEach(async () => {
    for (const store of open.splice(0)) await store.close();
  });
  return async () => {
    const store = await openStore(await target.fresh(), { create: true, ...target.options });
    open.push(store);
    return store;
  };
}
